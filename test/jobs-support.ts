import { EC2Client } from '@aws-sdk/client-ec2';
import type { InitializeHandlerOptions, InitializeMiddleware } from '@smithy/types';

/** Counts the calls an EC2 client sends, by operation, from its middleware stack: what the sandbox saw, seen from our side. */
export function countCalls(client: EC2Client): { counts: Map<string, number>; reset(): void } {
  const counts = new Map<string, number>();
  const stack = client.middlewareStack as unknown as {
    add(middleware: InitializeMiddleware<object, object>, options: InitializeHandlerOptions): void;
  };
  stack.add(
    (next, context) => (args) => {
      const op = String(context.commandName).replace(/Command$/, '');
      counts.set(op, (counts.get(op) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'testCallCounter', override: true },
  );
  return { counts, reset: () => counts.clear() };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10000, stepMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
