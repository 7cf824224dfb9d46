import { ValidateIf, ValidationOptions } from 'class-validator';

/**
 * A request field the caller may leave out. class-validator's `IsOptional` also skips every rule for
 * `null`, so `"SpotPrice": null` passed as "no price" and reached the code that formats it; in our bodies
 * JSON `null` is a value like any other and must pass the field's rules.
 */
export const IsOmittable = (options?: ValidationOptions): PropertyDecorator =>
  ValidateIf((_object, value) => value !== undefined, options);
