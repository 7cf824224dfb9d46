import { AppConfig } from './config/app-config';

export interface ResolvedCloud {
  config: AppConfig;
  /** Stops the sandbox this process started, if any. */
  stop(): Promise<void>;
}

/**
 * In sandbox mode with no endpoints given, starts the local cloud (SPEC §10) in this process and
 * points the clients at it. With endpoints given (a sandbox run alone by `npm run sandbox`, or any
 * AWS-compatible server), or in aws mode, nothing is started and nothing of the sandbox is loaded.
 */
export async function resolveCloud(
  config: AppConfig,
  log: (entry: Record<string, unknown>) => void,
): Promise<ResolvedCloud> {
  if (!config.inProcessSandbox) return { config, stop: () => Promise.resolve() };
  const { startSandbox } = await import('./sandbox');
  const sandbox = await startSandbox({
    port: config.sandboxPort,
    sqsPort: config.sandboxSqsPort,
    regions: [...config.regions],
    clockSpeed: config.sandboxClockSpeed,
    log: (entry) => log({ ...entry, component: 'sandbox' }),
  });
  log({ msg: 'sandbox cloud started', ...sandbox.endpoints });
  return { config: config.withEndpoints(sandbox.endpoints), stop: () => sandbox.stop() };
}
