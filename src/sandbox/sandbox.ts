import { randomInt } from 'node:crypto';
import { SimClock } from './clock';
import { ControlRoutes } from './control/routes';
import { SandboxControl } from './control/control';
import { Ec2Api } from './ec2/api';
import { SpotMarket } from './ec2/prices';
import { DEFAULT_TIMINGS, Ec2Timings, SimEc2 } from './ec2/sim-ec2';
import { EventsApi } from './events/api';
import { PricingApi } from './pricing/api';
import { EventDelivery } from './events/delivery';
import { Ec2EventPublisher } from './events/ec2-events';
import { RuleStore } from './events/rules';
import { Faults } from './faults';
import { SandboxHttp } from './http/server';
import { SqsSender } from './sqs/sender';
import { startSqsEmulator } from './sqs/emulator';
import { SqsProxy } from './sqs/proxy';

export type SandboxLog = (entry: Record<string, unknown>) => void;

export interface SandboxOptions extends Partial<Ec2Timings> {
  /** Interface to bind; loopback by default. */
  host?: string;
  /** EC2 + EventBridge + control port; 0 (default) picks a free one. */
  port?: number;
  /** SQS port; 0 (default) picks a free one. */
  sqsPort?: number;
  /** A port that answers EC2 only (`endpoints.ec2`), so that an EC2 outage can refuse it; 0 (default) picks one. */
  ec2Port?: number;
  regions: string[];
  /** Default `000000000000`, the account the SQS emulator puts in queue ARNs. */
  accountId?: string;
  zonesPerRegion?: number;
  /** Simulated seconds per real second (default 1; 0 freezes the clock until advanced). */
  clockSpeed?: number;
  /** Simulated start time, ms since the epoch (default now). */
  startTime?: number;
  /** How often simulated spot prices move (default 3600 s). */
  priceIntervalSeconds?: number;
  /** Seed for fault injection randomness (default random). */
  seed?: number;
  log?: SandboxLog;
}

export interface SandboxEndpoints {
  ec2: string;
  events: string;
  /** The AWS Price List Query API (GetProducts), signed for us-east-1 as in AWS. */
  pricing: string;
  sqs: string;
  control: string;
}

export interface Sandbox {
  readonly endpoints: SandboxEndpoints;
  readonly regions: readonly string[];
  readonly accountId: string;
  /** The control operations, in process (the `/_sandbox/` routes call the same methods). */
  readonly control: SandboxControl;
  stop(): Promise<void>;
}

/** Starts the simulated EC2 + EventBridge (one HTTP server) and the SQS emulator, all on loopback. */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const regions = [...new Set(options.regions)];
  if (regions.length === 0) throw new Error('the sandbox needs at least one region');
  const host = options.host ?? '127.0.0.1';
  const accountId = options.accountId ?? '000000000000';
  const log: SandboxLog = options.log ?? (() => undefined);
  const timings: Ec2Timings = { ...DEFAULT_TIMINGS };
  for (const key of Object.keys(DEFAULT_TIMINGS) as (keyof Ec2Timings)[]) {
    const value = options[key];
    if (value !== undefined) {
      if (!(value >= 0)) throw new RangeError(`${key} must be >= 0`);
      timings[key] = value;
    }
  }

  const clock = new SimClock(options.startTime ?? Date.now(), options.clockSpeed ?? 1, (err) =>
    log({ msg: 'sandbox task failed', err }),
  );
  // The emulator listens on a port of its own behind the proxy on the public SQS port; the sandbox's own
  // deliveries (EventBridge → SQS, inside AWS) go to it directly, so an outage of the public port loses nothing.
  const sqs = await startSqsEmulator(host, 0);
  const proxy = new SqsProxy(host, sqs.port, (err) => log({ msg: 'sandbox SQS listener failed', err }));
  let http: SandboxHttp | undefined;
  try {
    await proxy.start(options.sqsPort ?? 0);
    const faults = new Faults(options.seed ?? randomInt(2 ** 31));
    const rules = new RuleStore(accountId);
    const sender = new SqsSender(sqs.endpoint);
    const delivery = new EventDelivery(rules, sender, faults, clock, log);
    const market = new SpotMarket(clock, options.priceIntervalSeconds ?? 3600);
    const ec2 = new SimEc2(
      { regions, accountId, zonesPerRegion: options.zonesPerRegion ?? 3, timings },
      clock,
      market,
      new Ec2EventPublisher(delivery, clock, accountId),
    );
    const control = new SandboxControl(ec2, clock, rules, delivery, sender, faults, sqs.endpoint, {
      settled: () => Promise.all([proxy.settled(), http?.settled()]).then(() => undefined),
      heldEc2Requests: () => http?.heldRequests ?? 0,
    });
    const started = await SandboxHttp.start(
      host,
      { port: options.port ?? 0, ec2Port: options.ec2Port ?? 0 },
      {
        ec2: new Ec2Api(ec2, faults, (err, action) => log({ msg: 'ec2 action failed', action, err })),
        events: new EventsApi(rules, delivery, accountId, new Set(regions), () => clock.now()),
        pricing: new PricingApi(regions),
        control: new ControlRoutes(control),
        defaultRegion: regions[0],
      },
      log,
    );
    http = started;
    faults.onChange((settings) => {
      started.apply(settings.ec2);
      proxy.apply(settings.sqs);
    });
    const base = `http://${host}:${started.port}`;
    let stopped = false;
    return {
      endpoints: {
        ec2: `http://${host}:${started.ec2Port}`,
        events: base,
        pricing: base,
        sqs: `http://${host}:${proxy.port}`,
        control: `${base}/_sandbox`,
      },
      regions,
      accountId,
      control,
      async stop() {
        if (stopped) return;
        stopped = true;
        clock.stop();
        await started.close();
        await delivery.flush();
        sender.close();
        await proxy.close();
        await sqs.stop();
      },
    };
  } catch (err) {
    clock.stop();
    await http?.close();
    await proxy.close();
    await sqs.stop();
    throw err;
  }
}
