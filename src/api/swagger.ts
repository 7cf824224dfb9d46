import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { OperationObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { BEARER, REQUEST_ID_HEADER } from './endpoint.decorator';

/** Hooks that add to the document once built (e.g. launch examples that depend on the configuration). */
export type DocumentPatch = (doc: OpenAPIObject) => void;

export function buildOpenApiDocument(app: INestApplication, patches: DocumentPatch[] = []): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('ec2-manager')
    .setDescription(
      'Tracks, manages and alters the state of one EC2 account across regions, with a focus on spot capacity.\n\n' +
        'Read-only endpoints need no token. Endpoints that change things need `Authorization: Bearer <token>` ' +
        'with the scope named in their description. Errors are `{code, message, requestId, details?}`; every ' +
        'answer carries `X-Request-Id` (send your own to find your request in our logs). More in the ' +
        "repository's `docs/`.",
    )
    .setVersion('1')
    .addServer('/', 'This service')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        // An opaque random token, not a JWT: the service knows clients only by the SHA-256 of their tokens.
        bearerFormat: undefined,
        description: 'An opaque token of a client in API_CLIENTS (the service keeps only its SHA-256)',
      },
      BEARER,
    )
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  for (const patch of [documentRequestIds, dropBadRequestWithoutInput, markPublic, ...patches]) patch(doc);
  return doc;
}

type Operations = Record<string, OperationObject>;

function operations(doc: OpenAPIObject): OperationObject[] {
  return Object.values(doc.paths).flatMap((path) => Object.values(path as Operations));
}

/** Every answer carries X-Request-Id, errors and successes alike. */
function documentRequestIds(doc: OpenAPIObject): void {
  for (const op of operations(doc)) {
    for (const response of Object.values(op.responses ?? {})) {
      if (!response || '$ref' in response) continue;
      response.headers = { ...REQUEST_ID_HEADER, ...response.headers };
    }
  }
}

/** An operation that needs no token says so (`security: []`), rather than leaving it unsaid. */
function markPublic(doc: OpenAPIObject): void {
  for (const op of operations(doc)) op.security ??= [];
}

/** A 400 is promised only where the caller sends something that can be wrong: a parameter or a body. */
function dropBadRequestWithoutInput(doc: OpenAPIObject): void {
  for (const op of operations(doc)) {
    if (!op.parameters?.length && !op.requestBody) delete op.responses['400'];
  }
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
