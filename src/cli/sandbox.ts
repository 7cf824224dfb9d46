import { startSandbox } from '../sandbox';

/**
 * `npm run sandbox`: the simulated EC2 + EventBridge + SQS alone, for another process (a benchmark, a second
 * replica of the service) to share. Flags win over the environment:
 *   --port 5556 --sqs-port 5557 --ec2-port 0 --regions us-east-1,us-west-2 --clock-speed 1 --host 127.0.0.1
 */
interface CliOptions {
  host: string;
  port: number;
  sqsPort: number;
  ec2Port: number;
  regions: string[];
  clockSpeed: number;
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${arg}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    flags.set(m[1], value);
  }
  const known = new Set(['host', 'port', 'sqs-port', 'ec2-port', 'regions', 'clock-speed']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}`);
  const int = (name: string, raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got ${raw}`);
    return n;
  };
  const clockSpeed = Number(flags.get('clock-speed') ?? env.SANDBOX_CLOCK_SPEED ?? '1');
  if (!(clockSpeed >= 0)) throw new Error('clock speed must be a number >= 0');
  const regions = (flags.get('regions') ?? env.REGIONS ?? 'us-east-1,us-west-2,eu-central-1')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (regions.length === 0) throw new Error('at least one region is needed');
  return {
    host: flags.get('host') ?? env.SANDBOX_HOST ?? '127.0.0.1',
    port: int('port', flags.get('port') ?? env.SANDBOX_PORT ?? '5556'),
    sqsPort: int('sqs port', flags.get('sqs-port') ?? env.SANDBOX_SQS_PORT ?? '5557'),
    ec2Port: int('ec2 port', flags.get('ec2-port') ?? env.SANDBOX_EC2_PORT ?? '0'),
    regions,
    clockSpeed,
  };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2), process.env);
  const sandbox = await startSandbox({
    ...options,
    log: (entry) => console.error(JSON.stringify({ time: new Date().toISOString(), ...entry })),
  });
  say(`sandbox EC2 endpoint:         ${sandbox.endpoints.ec2}`);
  say(`sandbox EventBridge endpoint: ${sandbox.endpoints.events}`);
  say(`sandbox SQS endpoint:         ${sandbox.endpoints.sqs}`);
  say(`sandbox control API:          ${sandbox.endpoints.control}/`);
  say(`sandbox regions:              ${sandbox.regions.join(', ')} (account ${sandbox.accountId})`);
  say('sandbox ready');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`sandbox stopping (${signal})`);
    sandbox.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`sandbox stop failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Started by a parent with an IPC channel (a benchmark): when the channel closes, the parent is gone.
  if (process.send) process.once('disconnect', () => stop('parent gone'));
}

main().catch((err: unknown) => {
  console.error(`ec2-manager sandbox: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
