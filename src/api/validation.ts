import { ValidationError, ValidationPipe } from '@nestjs/common';
import { InputError, mainConstraint, Reason } from '../common/errors';

/** One reason per failed constraint, with the dotted path of the field (`LaunchSpecification.ImageId`). */
export function validationReasons(errors: ValidationError[], rule = 'schema', parent = ''): Reason[] {
  const reasons: Reason[] = [];
  for (const e of errors) {
    const path = parent
      ? /^\d+$/.test(e.property)
        ? `${parent}[${e.property}]`
        : `${parent}.${e.property}`
      : e.property;
    const main = mainConstraint(e.constraints);
    if (main) {
      const [constraint, message] = main;
      const text =
        constraint === 'whitelistValidation'
          ? 'is not an accepted field'
          : message.startsWith(`${e.property} `)
            ? message.slice(e.property.length + 1)
            : message;
      reasons.push({ rule, path, message: text });
    }
    reasons.push(...validationReasons(e.children ?? [], rule, path));
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
