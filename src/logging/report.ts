import * as Sentry from '@sentry/nestjs';
import { serializeError } from './serialize-error';

/** How long one cause stays quiet after it was reported, unless the caller says otherwise. */
export const REPORT_WINDOW_SECONDS = 60;
/** Causes remembered at once; the oldest is forgotten first (it may then be reported again early). */
const MAX_CAUSES = 1000;

/** Tags that tell one cause from another; the rest (requestId, instanceId, ...) differ per occurrence. */
const CAUSE_TAGS = ['stage', 'job', 'region', 'queue', 'operation'] as const;

export interface ReportContext {
  /** What makes two reports the same cause; by default the error's name and code plus the CAUSE_TAGS. */
  cause?: string;
  tags?: Record<string, string | undefined>;
  extra?: Record<string, unknown>;
  level?: Sentry.SeverityLevel;
  /** Quiet period of this cause after a report. */
  everySeconds?: number;
}

/**
 * At most one report per cause per window; the next report after a quiet period says how many were
 * held back. An outage that fails thousands of calls is one Sentry event a minute, not thousands.
 */
export class CauseLimiter {
  private readonly causes = new Map<string, { until: number; suppressed: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether this occurrence is reported, and how many of its cause were held back before it. */
  admit(cause: string, windowMs: number): { report: boolean; suppressed: number } {
    const t = this.now();
    const entry = this.causes.get(cause);
    if (entry && t < entry.until) {
      entry.suppressed++;
      return { report: false, suppressed: entry.suppressed };
    }
    // Re-inserted, so the map's order is the order of last reports: the first key is the stalest.
    this.causes.delete(cause);
    this.causes.set(cause, { until: t + windowMs, suppressed: 0 });
    if (this.causes.size > MAX_CAUSES) this.causes.delete(this.causes.keys().next().value!);
    return { report: true, suppressed: entry?.suppressed ?? 0 };
  }
}

const limiter = new CauseLimiter();

function causeOf(kind: string, context: ReportContext): string {
  if (context.cause) return context.cause;
  const tags = CAUSE_TAGS.map((k) => `${k}=${context.tags?.[k] ?? ''}`).join(',');
  return `${kind}|${tags}`;
}

function send(
  cause: string,
  context: ReportContext,
  capture: (hint: {
    level?: Sentry.SeverityLevel;
    tags: Record<string, string>;
    extra: Record<string, unknown>;
  }) => void,
): boolean {
  const { report, suppressed } = limiter.admit(cause, (context.everySeconds ?? REPORT_WINDOW_SECONDS) * 1000);
  if (!report) return false;
  const tags = Object.fromEntries(
    Object.entries(context.tags ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
  );
  capture({
    level: context.level,
    tags,
    extra: { ...context.extra, cause, ...(suppressed > 0 ? { suppressedSinceLastReport: suppressed } : {}) },
  });
  return true;
}

/**
 * Sends an error to Sentry (when SENTRY_DSN is set), rate-limited per cause. Returns whether it was
 * sent. Logging stays the caller's business: log every occurrence, report the cause.
 */
export function reportError(err: unknown, context: ReportContext = {}): boolean {
  const { name, code } = serializeError(err);
  return send(causeOf(`${name}:${code ?? ''}`, context), context, (hint) => Sentry.captureException(err, hint));
}

/** Sends a message to Sentry, rate-limited per cause (by default the message itself). */
export function reportMessage(message: string, context: ReportContext = {}): boolean {
  return send(context.cause ?? message, context, (hint) => Sentry.captureMessage(message, hint));
}
