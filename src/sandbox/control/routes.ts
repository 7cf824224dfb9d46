import { LIFECYCLES } from '../ec2/capacity';
import { INSTANCE_STATES, InstanceStateName, SpotRequestState } from '../ec2/model';
import { EC2_OUTAGES, FaultUpdate, SQS_OUTAGES } from '../faults';
import { SandboxControl } from './control';
import { ControlError, Input } from './input';

export interface ControlReply {
  status: number;
  body: unknown;
}

type Route = (body: Input, params: URLSearchParams, match: RegExpMatchArray) => unknown;

const SPOT_STATES: readonly SpotRequestState[] = ['open', 'active', 'closed', 'cancelled', 'failed'];

/** JSON routes under `/_sandbox/`; see src/sandbox/README.md. */
export class ControlRoutes {
  private readonly routes: [string, RegExp, Route][];

  constructor(private readonly control: SandboxControl) {
    const c = control;
    this.routes = [
      ['GET', /^\/health$/, () => ({ ok: true })],
      ['POST', /^\/reset$/, async (b) => {
        await c.reset({ rules: b.bool('rules'), purgeQueues: b.bool('purgeQueues') });
        return { ok: true };
      }],
      ['GET', /^\/state$/, (_b, p) =>
        c.state({
          region: p.get('region') ?? undefined,
          summary: p.get('summary') === 'true' || p.get('summary') === '1',
          limit: p.has('limit') ? Number(p.get('limit')) : undefined,
        })],
      ['POST', /^\/instances$/, (b) =>
        c.seedInstances({
          region: b.requiredStr('region'),
          count: b.num('count', 1) ?? 1,
          keyName: b.str('keyName'),
          instanceType: b.str('instanceType'),
          imageId: b.str('imageId'),
          zone: b.str('zone'),
          state: b.oneOf<InstanceStateName>('state', INSTANCE_STATES),
          launchTime: b.time('launchTime'),
          ageSeconds: b.num('ageSeconds', 0),
          tags: b.strings('tags'),
          spot: b.bool('spot'),
          spotPrice: b.str('spotPrice'),
          emitEvents: b.bool('emitEvents'),
        })],
      ['POST', /^\/instances\/([^/]+)\/interrupt$/, (b, _p, m) =>
        c.interrupt(m[1], b.oneOf('kind', ['spot-interruption', 'rebalance'] as const))],
      ['POST', /^\/instances\/([^/]+)\/end$/, (b, _p, m) =>
        c.endInstance(m[1], b.oneOf('cause', ['instance-initiated', 'insufficient-capacity', 'interruption'] as const) ??
          'instance-initiated')],
      ['POST', /^\/spot-requests$/, (b) =>
        c.seedSpotRequests({
          region: b.requiredStr('region'),
          count: b.num('count', 1) ?? 1,
          keyName: b.str('keyName'),
          instanceType: b.str('instanceType'),
          imageId: b.str('imageId'),
          zone: b.str('zone'),
          spotPrice: b.str('spotPrice'),
          type: b.oneOf('type', ['one-time', 'persistent'] as const),
          state: b.oneOf('state', SPOT_STATES),
          statusCode: b.str('statusCode'),
          createTime: b.time('createTime'),
          ageSeconds: b.num('ageSeconds', 0),
          tags: b.strings('tags'),
          evaluate: b.bool('evaluate'),
        })],
      ['POST', /^\/images$/, (b) => {
        c.registerImage({
          region: b.requiredStr('region'),
          imageId: b.requiredStr('imageId'),
          name: b.str('name'),
          architecture: b.oneOf('architecture', ['x86_64', 'arm64'] as const),
        });
        return { ok: true };
      }],
      ['GET', /^\/clock$/, () => c.clockState()],
      ['POST', /^\/clock$/, (b) =>
        c.setClock({ speed: b.num('speed', 0), time: b.time('time'), advanceSeconds: b.num('advanceSeconds', 0) })],
      ['GET', /^\/prices$/, (_b, p) => {
        const pool = { region: p.get('region') ?? '', zone: p.get('zone') ?? '', instanceType: p.get('instanceType') ?? '' };
        return { ...pool, price: c.price(pool) };
      }],
      ['POST', /^\/prices$/, (b) => {
        c.setPrice({ ...pool(b), price: b.raw('price') === null ? null : requiredNum(b, 'price') });
        return { ok: true };
      }],
      ['POST', /^\/capacity$/, (b) => {
        c.setCapacity({
          ...pool(b),
          capacity: b.raw('capacity') === null ? null : requiredNum(b, 'capacity'),
          lifecycle: b.oneOf('lifecycle', LIFECYCLES),
        });
        return { ok: true };
      }],
      ['GET', /^\/quotas$/, (_b, p) => c.quotas(p.get('region') ?? undefined)],
      ['POST', /^\/quotas$/, (b) =>
        c.setQuota({
          region: b.requiredStr('region'),
          lifecycle: b.oneOf('lifecycle', LIFECYCLES),
          vcpus: nullableNum(b, 'vcpus'),
          instances: nullableNum(b, 'instances'),
          fleets: nullableNum(b, 'fleets'),
        })],
      ['POST', /^\/subnets$/, (b) =>
        c.addSubnet({
          region: b.requiredStr('region'),
          zone: b.requiredStr('zone'),
          subnetId: b.str('subnetId'),
          cidrBlock: b.str('cidrBlock'),
        })],
      ['GET', /^\/faults$/, () => c.faults()],
      ['POST', /^\/faults$/, async (b) => {
        const settings = c.setFaults(faultUpdate(b));
        await c.settled();
        return settings;
      }],
      ['DELETE', /^\/faults$/, async () => {
        const settings = c.clearFaults();
        await c.settled();
        return settings;
      }],
      ['GET', /^\/events$/, () => c.deliveries()],
      ['POST', /^\/events$/, (b) => {
        const detail = b.raw('detail');
        if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
          throw new ControlError('detail must be a JSON object');
        }
        const resources = b.raw('resources');
        if (resources !== undefined && (!Array.isArray(resources) || resources.some((r) => typeof r !== 'string'))) {
          throw new ControlError('resources must be a list of strings');
        }
        return c.emitEvent({
          region: b.requiredStr('region'),
          source: b.str('source'),
          detailType: b.requiredStr('detailType'),
          detail: detail as Record<string, unknown>,
          resources: resources as string[] | undefined,
        });
      }],
      ['POST', /^\/events\/flush$/, async () => {
        await c.flushEvents();
        return { ok: true };
      }],
    ]; // prettier-ignore
  }

  async handle(method: string, path: string, params: URLSearchParams, rawBody: string): Promise<ControlReply> {
    try {
      const sub = path.replace(/^\/_sandbox/, '');
      const candidates = this.routes.filter(([, re]) => re.test(sub));
      if (candidates.length === 0) throw new ControlError(`no control route ${path}`, 404);
      const route = candidates.find(([m]) => m === method);
      if (!route) throw new ControlError(`${method} not allowed on ${path}`, 405);
      let parsed: unknown;
      try {
        parsed = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        throw new ControlError('body is not valid JSON');
      }
      const match = sub.match(route[1]) as RegExpMatchArray;
      const result: unknown = await route[2](Input.of(parsed), params, match);
      return { status: 200, body: result };
    } catch (err) {
      if (err instanceof ControlError) return { status: err.status, body: { error: err.message } };
      throw err;
    }
  }
}

function pool(b: Input) {
  return { region: b.requiredStr('region'), zone: b.str('zone'), instanceType: b.requiredStr('instanceType') };
}

/** A number, `null` (to clear) or absent (to leave alone). */
function nullableNum(b: Input, key: string): number | null | undefined {
  return b.raw(key) === null ? null : b.num(key, 0);
}

function requiredNum(b: Input, key: string): number {
  const n = b.num(key, 0);
  if (n === undefined) throw new ControlError(`${key} is required (a number, or null to clear)`);
  return n;
}

function faultUpdate(b: Input): FaultUpdate {
  const throttle = b.child('throttle');
  const events = b.child('events');
  const sqs = b.child('sqs');
  const ec2 = b.child('ec2');
  const actions = throttle?.raw('actions');
  if (actions !== undefined && (!Array.isArray(actions) || actions.some((a) => typeof a !== 'string'))) {
    throw new ControlError('throttle.actions must be a list of EC2 action names');
  }
  return {
    throttle: throttle
      ? { fraction: throttle.num('fraction', 0, 1), actions: actions as string[] | undefined }
      : undefined,
    describeInstancesLagSeconds: b.num('describeInstancesLagSeconds', 0),
    describeSpotRequestsLagSeconds: b.num('describeSpotRequestsLagSeconds', 0),
    sqs: sqs ? { outage: sqs.oneOf('outage', SQS_OUTAGES), errorStatus: sqs.num('errorStatus', 500, 503) } : undefined,
    ec2: ec2 ? { outage: ec2.oneOf('outage', EC2_OUTAGES) } : undefined,
    events: events
      ? {
          delaySeconds: events.num('delaySeconds', 0),
          duplicateFraction: events.num('duplicateFraction', 0, 1),
          reorderFraction: events.num('reorderFraction', 0, 1),
          reorderWindowSeconds: events.num('reorderWindowSeconds', 0),
        }
      : undefined,
  };
}
