import type { OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { getMetadataStorage } from 'class-validator';
import type { DocumentPatch } from './swagger';

type Schema = SchemaObject & { items?: SchemaObject };
type Rule = (schema: Schema, constraints: unknown[]) => void;

/** What each class-validator rule means for a JSON schema. */
const RULES: Record<string, Rule> = {
  matches: (s, [re]) => {
    if (re instanceof RegExp) s.pattern = re.source;
  },
  isLength: (s, [min, max]) => {
    if (typeof min === 'number') s.minLength = min;
    if (typeof max === 'number') s.maxLength = max;
  },
  maxLength: (s, [max]) => {
    if (typeof max === 'number') s.maxLength = max;
  },
  minLength: (s, [min]) => {
    if (typeof min === 'number') s.minLength = min;
  },
  min: (s, [min]) => {
    if (typeof min === 'number') s.minimum = min;
  },
  max: (s, [max]) => {
    if (typeof max === 'number') s.maximum = max;
  },
  // `> 0`, said so that validators of both OpenAPI 3.0 (boolean exclusiveMinimum) and 3.1 (numeric) agree.
  isPositive: (s) => {
    s.minimum = 0;
    s.not = { enum: [0] };
  },
  isInt: (s) => {
    s.type = 'integer';
  },
  isBase64: (s) => {
    s.format = 'byte';
  },
  arrayMaxSize: (s, [max]) => {
    if (typeof max === 'number') s.maxItems = max;
  },
  arrayMinSize: (s, [min]) => {
    if (typeof min === 'number') s.minItems = min;
  },
};

/**
 * Writes the validation rules of the request DTOs into their schemas (patterns, lengths, ranges, integer
 * types) and closes them to unknown keys, as the validation pipe does (`forbidNonWhitelisted`). The rules
 * are read from the classes' class-validator metadata, so the document cannot drift from what the
 * endpoints accept; a generated client refuses what the service would refuse.
 */
export function requestConstraintsPatch(dtos: readonly (new () => object)[]): DocumentPatch {
  return (doc: OpenAPIObject) => {
    const schemas = doc.components?.schemas ?? {};
    for (const dto of dtos) {
      const schema = schemas[dto.name] as Schema | undefined;
      if (!schema?.properties) continue;
      schema.additionalProperties = false;
      for (const meta of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
        const rule = meta.name ? RULES[meta.name] : undefined;
        const property = schema.properties[meta.propertyName] as Schema | undefined;
        if (!rule || !property || '$ref' in property) continue;
        const target = meta.each ? property.items : property;
        if (target && !('$ref' in target)) rule(target, meta.constraints ?? []);
      }
    }
  };
}
