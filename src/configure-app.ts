import { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ErrorFilter } from './api/error.filter';
import { launchExamplesPatch } from './api/launch/launch-examples';
import { requestIdMiddleware } from './common/request-id';
import { setupSwagger } from './api/swagger';
import { createValidationPipe } from './api/validation';
import { AppConfig } from './config/app-config';
import { Metrics } from './metrics/metrics.service';

/** Everything applied to the HTTP app, shared by main.ts and the e2e tests. */
export function configureApp(app: INestApplication): INestApplication {
  app.use(requestIdMiddleware);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ErrorFilter());
  countRequests(app);
  setupSwagger(app, [launchExamplesPatch(app.get(AppConfig))]);
  return app;
}

/** HTTP requests by route pattern (never the raw path: ids would explode the label set) and status. */
function countRequests(app: INestApplication): void {
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
