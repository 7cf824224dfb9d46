import { ValidationError, ValidationPipe } from '@nestjs/common';
import { InputError, mainConstraint, Reason } from '../common/errors';

/** One failed constraint of one field, as class-validator reports it. */
export interface Failure {
  property: string;
  /** Dotted path of the field (`LaunchSpecification.ImageId`, `BlockDeviceMappings[0]`). */
  path: string;
  /** Path of the object the field belongs to ('' at the top). */
  parent: string;
  constraint: string;
  message: string;
}

/** The reason given for a failure outside the launch rules: a schema error, named by its path. */
export function schemaReason(f: Failure): Reason {
  const message =
    f.constraint === 'whitelistValidation'
      ? 'is not an accepted field'
      : f.message.startsWith(`${f.property} `)
        ? f.message.slice(f.property.length + 1)
        : f.message;
  return { rule: 'schema', path: f.path, message };
}

/** One reason per failed field (its most basic constraint), depth first, each named by `reasonOf`. */
export function validationReasons(
  errors: ValidationError[],
  reasonOf: (f: Failure) => Reason = schemaReason,
  parent = '',
): Reason[] {
  const reasons: Reason[] = [];
  for (const e of errors) {
    const path = parent
      ? /^\d+$/.test(e.property)
        ? `${parent}[${e.property}]`
        : `${parent}.${e.property}`
      : e.property;
    const main = mainConstraint(e.constraints);
    if (main) reasons.push(reasonOf({ property: e.property, path, parent, constraint: main[0], message: main[1] }));
    reasons.push(...validationReasons(e.children ?? [], reasonOf, path));
  }
  return reasons;
}

/** The one validation pipe: unknown fields are refused, every broken rule is named. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => InputError.of(validationReasons(errors)),
  });
}
