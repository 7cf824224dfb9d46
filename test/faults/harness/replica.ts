import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../../src/state/embedded-postgres';
import { ServiceProcess, spawnService } from '../../support/service-process';

/** One line the service wrote: its JSON fields, or `raw` for anything else (a crash, ts-node). */
export interface LogLine {
  replica: string;
  /** Which start of the replica wrote it: a restarted replica is another process. */
  generation: number;
  fields?: Record<string, unknown>;
  raw?: string;
}

export type ReplicaStatus = 'starting' | 'up' | 'down';

/** An exit the harness did not cause, after the replica had been up: the process crashed. */
export interface UnexpectedExit {
  replica: string;
  generation: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
  tail: string[];
}

/**
 * One replica of the service as production runs it: the compiled `main.js` in a child process of its own,
 * configured only through its environment, logging JSON lines on stdout. Kept running like a
 * container: a replica that dies unasked (or never gets up) is started again after a pause.
 */
export class ServiceReplica {
  readonly lines: LogLine[] = [];
  readonly crashes: UnexpectedExit[] = [];
  status: ReplicaStatus = 'down';
  port = 0;
  generation = 0;
  private child?: ServiceProcess;
  private exited?: Promise<void>;
  private wanted = false;
  private fatal?: Error;
  private restartTimer?: NodeJS.Timeout;
  private readonly logFile: string;

  constructor(
    readonly name: string,
    /** The service's compiled `main.js` (harness/build.ts). */
    private readonly mainJs: string,
    private readonly env: Record<string, string>,
    logDir: string,
    private readonly restartDelayMs = 1000,
  ) {
    this.logFile = path.join(logDir, `${name}.log`);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves once it listens (its readiness may still wait on the database). */
  async start(timeoutMs = 120_000): Promise<void> {
    this.wanted = true;
    await this.spawn();
    await this.waitUp(timeoutMs);
  }

  /** Resolves when this generation listens and answers liveness. */
  async waitUp(timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.status !== 'up') {
      if (this.fatal) throw this.fatal;
      if (Date.now() > until) throw new Error(`${this.name} not up in ${timeoutMs} ms:\n${this.tail(30).join('\n')}`);
      await sleep(100);
    }
  }

  /** SIGKILL, as the kernel's OOM killer or a node failure does: no shutdown hook runs. */
  async kill(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait, as a rolling update does. */
  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(killer);
  }

  tail(n: number): string[] {
    return this.lines.slice(-n).map((l) => (l.fields ? JSON.stringify(l.fields) : (l.raw ?? '')));
  }

  /** JSON lines of every generation, oldest first. */
  records(): { generation: number; fields: Record<string, unknown> }[] {
    return this.lines.flatMap((l) => (l.fields ? [{ generation: l.generation, fields: l.fields }] : []));
  }

  private async spawn(): Promise<void> {
    this.port = await freePort();
    this.generation++;
    const generation = this.generation;
    this.status = 'starting';
    const child = spawnService([this.mainJs], { ...this.env, PORT: String(this.port), LOG_FORMAT: 'json' });
    this.child = child;
    fs.appendFileSync(this.logFile, `--- ${this.name} generation ${generation} pid ${child.pid} port ${this.port}\n`);
    const listening = `"url":"http://127.0.0.1:${this.port}"`;
    const onLine = (line: string): void => {
      if (line.length === 0) return;
      fs.appendFileSync(this.logFile, `${line}\n`);
      let fields: Record<string, unknown> | undefined;
      if (line.startsWith('{')) {
        try {
          fields = JSON.parse(line) as Record<string, unknown>;
        } catch {
          fields = undefined;
        }
      }
      this.lines.push(
        fields ? { replica: this.name, generation, fields } : { replica: this.name, generation, raw: line },
      );
      // The port was free when picked; only this child's own "listening" line proves it holds it now.
      if (generation === this.generation && this.status === 'starting' && line.includes(listening)) this.status = 'up';
    };
    splitLines(child.stdout, onLine);
    splitLines(child.stderr, onLine);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        const wasUp = this.status === 'up';
        if (generation === this.generation) this.status = 'down';
        fs.appendFileSync(
          this.logFile,
          `--- ${this.name} generation ${generation} exited code=${code} signal=${signal}\n`,
        );
        // A configuration the service refuses will be refused again: no restart, the start fails.
        const refused = this.lines.some((l) => l.generation === generation && l.raw?.includes('invalid configuration'));
        if (refused && !wasUp)
          this.fatal = new Error(`${this.name} refused its configuration: ${this.tail(3).join(' | ')}`);
        if (this.wanted && generation === this.generation && !this.fatal) {
          if (wasUp) {
            this.crashes.push({ replica: this.name, generation, code, signal, at: Date.now(), tail: this.tail(20) });
          }
          this.restartTimer = setTimeout(() => void this.spawn().catch(() => undefined), this.restartDelayMs);
        }
        resolve();
      }),
    );
    await Promise.resolve();
  }
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    let at: number;
    while ((at = rest.indexOf('\n')) >= 0) {
      onLine(rest.slice(0, at));
      rest = rest.slice(at + 1);
    }
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
    rest = '';
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
