import * as Sentry from '@sentry/nestjs';

/**
 * Sentry must be initialised before anything else is imported, so it reads its three settings here
 * (the one place besides src/config that reads the environment). Without SENTRY_DSN nothing is sent.
 */
const dsn = process.env.SENTRY_DSN;
if (dsn) {
  Sentry.init({
    dsn,
    environment: process.env.SENTRY_ENVIRONMENT || undefined,
    release: process.env.SENTRY_RELEASE || undefined,
    tracesSampleRate: 0,
  });
}
