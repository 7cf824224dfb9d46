import type { DestinationStream } from 'pino';

/** One JSON log line as the service writes it. */
export interface LogLine {
  level: string;
  msg?: string;
  context?: string;
  err?: { name: string; code?: string; message: string; awsRequestId?: string; [key: string]: unknown };
  [key: string]: unknown;
}

const MAX_LINES = 100_000;

/**
 * The JSON lines the service under test writes, kept in memory for the test to read instead of going
 * to the console (failures that tests provoke on purpose would otherwise fill the output with red).
 * `TEST_LOGS=1 npx jest ...` echoes them to stderr as well.
 */
export class LogCapture {
  readonly lines: LogLine[] = [];
  private readonly echo = Boolean(process.env.TEST_LOGS);

  readonly stream: DestinationStream = {
    write: (chunk: string) => {
      if (this.echo) process.stderr.write(chunk);
      for (const text of chunk.split('\n')) {
        if (!text) continue;
        try {
          this.lines.push(JSON.parse(text) as LogLine);
        } catch {
          this.lines.push({ level: 'unparsed', msg: text });
        }
      }
      if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    },
  };

  /** Lines whose message is `msg` (or matches it), optionally only those after a mark. */
  find(msg: string | RegExp, since = 0): LogLine[] {
    return this.lines.slice(since).filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg ?? '')));
  }

  /** A position to read from later: `logs.find(msg, logs.mark())`. */
  mark(): number {
    return this.lines.length;
  }
}

/** This test file's log lines (jest gives each test file its own module registry). */
export const testLogs = new LogCapture();
