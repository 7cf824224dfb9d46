import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { HttpRequest, HttpResponse } from './http-types';
import { awsErrorCode, isAwsError } from '../aws/aws-error';
import { ApiError, ERROR_STATUS, ErrorCode } from '../common/errors';
import { requestIdOf } from '../common/request-id';
import { reportError } from '../logging/report';
import { asDatabaseUnavailable, DatabaseUnavailableError } from '../state/database-errors';

/** EC2 answers that mean "slow down" or "try later", still there after the SDK's own retries. */
const UNAVAILABLE_AWS_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ServiceUnavailable',
  'Unavailable',
  'InsufficientInstanceCapacity',
  'TimeoutError',
]);

interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId: string;
  details?: Record<string, unknown>;
}

/** Errors of the body parser (malformed JSON, oversized body) carry these. */
interface ParserError {
  type?: string;
  status?: number;
  message?: string;
  limit?: number;
}

/** Terminus answers its probes through an HttpException whose body is the health result: keep it. */
function isHealthResult(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'status' in body && 'details' in body && 'error' in body;
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'AuthenticationFailed';
  if (status === 403) return 'InsufficientScopes';
  if (status === 404) return 'ResourceNotFound';
  if (status === 503) return 'ServiceUnavailable';
  if (status >= 400 && status < 500) return 'InputError';
  return 'InternalError';
}

function httpMessage(e: HttpException): string {
  const body = e.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : e.message;
}

/**
 * The one place errors become HTTP answers: `{code, message, requestId, details?}` with the codes of
 * SPEC §8. Anything a caller can cause is a 4xx; a 500 says only that something broke, never how.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger(ErrorFilter.name);

  catch(thrown: unknown, host: ArgumentsHost): void {
    // SPEC §9: Postgres not reached or not answering is a 503 naming the database, never a 500.
    const err = asDatabaseUnavailable(thrown) ?? thrown;
    const http = host.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    const res = http.getResponse<HttpResponse>();
    const requestId = requestIdOf(req);

    if (err instanceof HttpException && isHealthResult(err.getResponse())) {
      res.status(err.getStatus()).json(err.getResponse());
      return;
    }
    const body = this.toBody(err, requestId, req);
    if (res.headersSent) return;
    res.setHeader('X-Request-Id', requestId);
    if (err instanceof ApiError && err.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(err.retryAfterSeconds));
    }
    res.status(ERROR_STATUS[body.code]).json(body);
  }

  private toBody(err: unknown, requestId: string, req: HttpRequest): ErrorBody {
    if (err instanceof DatabaseUnavailableError) {
      this.log.warn({ msg: 'database unavailable', requestId, method: req.method, path: req.path, err: err.cause });
    }
    if (err instanceof ApiError) {
      return { code: err.code, message: err.message, requestId, ...(err.details ? { details: err.details } : {}) };
    }
    if (err instanceof HttpException) {
      const status = err.getStatus();
      if (status === 413) return { code: 'InputError', message: 'request body too large', requestId };
      const code = codeForStatus(status);
      if (code !== 'InternalError') return { code, message: httpMessage(err), requestId };
    }
    const parser = err as ParserError;
    if (parser && typeof parser.type === 'string' && parser.type.startsWith('entity.')) {
      if (parser.type === 'entity.too.large') {
        return {
          code: 'InputError',
          message: `request body larger than ${parser.limit ?? 'the limit'} bytes`,
          requestId,
        };
      }
      if (parser.type === 'entity.parse.failed') {
        return { code: 'InputError', message: `malformed JSON body: ${parser.message ?? 'cannot parse'}`, requestId };
      }
      return { code: 'InputError', message: parser.message ?? 'unreadable request body', requestId };
    }
    // Other client errors of the HTTP stack (unsupported charset, undecodable URL, ...): http-errors style.
    if (parser && typeof parser.status === 'number' && parser.status >= 400 && parser.status < 500) {
      const code = codeForStatus(parser.status === 413 ? 400 : parser.status);
      return { code, message: parser.message ?? 'bad request', requestId };
    }
    if (isAwsError(err) && UNAVAILABLE_AWS_CODES.has(awsErrorCode(err) ?? err.name)) {
      this.log.warn({ msg: 'AWS unavailable after retries', requestId, err });
      return {
        code: 'ServiceUnavailable',
        message: 'EC2 is throttling or unavailable; try again later',
        requestId,
        details: { awsCode: awsErrorCode(err), region: err.region, operation: err.operation },
      };
    }
    // `requestId` is the caller's; AWS's own request id, if any, is `err.awsRequestId`.
    this.log.error({ msg: 'unhandled error', requestId, method: req.method, path: req.path, err });
    reportError(err, { tags: { requestId, stage: 'request' } });
    return { code: 'InternalError', message: 'Internal server error', requestId };
  }
}
