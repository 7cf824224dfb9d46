import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { refuseUnsafeBodies } from './api/body-shape';
import { ErrorFilter } from './api/error.filter';
import { launchExamplesPatch } from './api/launch/launch-examples';
import { REQUEST_DTOS } from './api/dto/request-dtos';
import { requestConstraintsPatch } from './api/openapi-constraints';
import { requestIdMiddleware } from './common/request-id';
import { withCallerWaiting } from './ec2/ec2-call-context';
import { setupSwagger } from './api/swagger';
import { createValidationPipe } from './api/validation';
import { AppConfig } from './config/app-config';
import { Metrics } from './metrics/metrics.service';

/**
 * How the HTTP app is created, by main.ts and the e2e tests alike: without Nest's default body parsers,
 * because the API takes JSON only (SPEC §8) and `configureApp` puts the body check right after its parser.
 */
export const HTTP_APP_OPTIONS: NestApplicationOptions = { bodyParser: false };

/** Everything applied to the HTTP app, shared by main.ts and the e2e tests. */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  app.use(requestIdMiddleware);
  app.useBodyParser('json');
  app.use(refuseUnsafeBodies);
  // After the body parser (its stream callbacks would lose the context): from here a caller is waiting.
  const maxWaitMs = app.get(AppConfig).ec2RateLimitMaxWaitMs;
  app.use((_req: Request, _res: Response, next: NextFunction) => withCallerWaiting(maxWaitMs, next));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ErrorFilter());
  countRequests(app);
  setupSwagger(app, [launchExamplesPatch(app.get(AppConfig)), requestConstraintsPatch(REQUEST_DTOS)]);
  return app;
}

/** HTTP requests by route pattern (never the raw path: ids would explode the label set) and status. */
function countRequests(app: NestExpressApplication): void {
  const metrics = app.get(Metrics);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const stop = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      stop({ method: req.method, route });
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });
}
