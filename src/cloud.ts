import { AppConfig } from './config/app-config';

export interface ResolvedCloud {
  config: AppConfig;
  /** Where the clouds's APIs are, for the start-up summary. */
  where: string;
  /**
   * A sandbox this process just started: it lives in memory, so nothing the state database remembers of
   * an earlier run exists in it.
   */
  fresh: boolean;
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
  if (!config.inProcessSandbox)
    return { config, where: describeEndpoints(config), fresh: false, stop: () => Promise.resolve() };
  const { startSandbox } = await import('./sandbox');
  const sandbox = await startSandbox({
    port: config.sandboxPort,
    sqsPort: config.sandboxSqsPort,
    regions: [...config.regions],
    clockSpeed: config.sandboxClockSpeed,
    log: (entry) => log({ ...entry, component: 'sandbox' }),
  });
  log({ msg: 'sandbox cloud started', ...sandbox.endpoints });
  const { ec2, sqs, control } = sandbox.endpoints;
  return {
    config: config.withEndpoints(sandbox.endpoints),
    where: `sandbox in this process: EC2 ${ec2}, SQS ${sqs}, control ${control}`,
    fresh: true,
    stop: () => sandbox.stop(),
  };
}

function describeEndpoints(config: AppConfig): string {
  const { ec2, sqs, events } = config.endpoints;
  const what = config.awsMode === 'sandbox' ? 'sandbox' : 'AWS';
  if (!ec2 && !sqs && !events) return `${what} (standard endpoints and credential chain)`;
  return `${what} at EC2 ${ec2 ?? 'standard'}, SQS ${sqs ?? 'standard'}, EventBridge ${events ?? 'standard'}`;
}
