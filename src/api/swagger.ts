import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { BEARER } from './endpoint.decorator';

/** Hooks that add to the document once built (e.g. launch examples that depend on the configuration). */
export type DocumentPatch = (doc: OpenAPIObject) => void;

export function buildOpenApiDocument(app: INestApplication, patches: DocumentPatch[] = []): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('ec2-manager')
    .setDescription(
      'Tracks, manages and alters the state of one EC2 account across regions, with a focus on spot capacity.\n\n' +
        'Read-only endpoints need no token. Endpoints that change things need `Authorization: Bearer <token>` ' +
        'with the scope named in their description. Errors are `{code, message, requestId, details?}`.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A token of a client in API_CLIENTS' }, BEARER)
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  for (const patch of patches) patch(doc);
  return doc;
}

/** Swagger UI at /api, the OpenAPI document at /api-json. */
export function setupSwagger(app: INestApplication, patches: DocumentPatch[] = []): OpenAPIObject {
  const doc = buildOpenApiDocument(app, patches);
  SwaggerModule.setup('api', app, doc, {
    jsonDocumentUrl: 'api-json',
    swaggerOptions: { persistAuthorization: true, displayOperationId: true },
  });
  return doc;
}
