import { INestApplication, ValidationPipe } from '@nestjs/common';

/** Everything applied to the HTTP app, shared by main.ts and the e2e tests. */
export function configureApp(app: INestApplication): INestApplication {
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  return app;
}
