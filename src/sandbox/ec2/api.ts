import { Faults } from '../faults';
import { requestId } from '../ids';
import { ACTIONS } from './actions';
import { Ec2Error, invalidAction, missingParameter, throttled } from './errors';
import { Query } from './query';
import { SimEc2 } from './sim-ec2';
import { renderError, renderResponse } from './xml';

export interface Ec2Reply {
  status: number;
  body: string;
  requestId: string;
  action: string;
  code?: string;
}

const NOT_MEANING = new Set(['Action', 'Version', 'DryRun', 'ClientToken']);

/** The EC2 query protocol: one form-encoded request in, one XML document out. */
export class Ec2Api {
  constructor(
    private readonly ec2: SimEc2,
    private readonly faults: Faults,
    private readonly onError: (err: unknown, action: string) => void,
  ) {}

  handle(body: string, regionName: string): Ec2Reply {
    const id = requestId();
    let action = '';
    try {
      const q = Query.parse(body);
      action = q.str('Action') ?? '';
      if (!action) throw missingParameter('Action');
      const def = ACTIONS.get(action);
      if (!def) throw invalidAction(action);
      const region = this.ec2.region(regionName);
      if (!region) {
        throw new Ec2Error('AuthFailure', `The region '${regionName}' is not enabled in this sandbox.`, 401);
      }
      region.calls.set(action, (region.calls.get(action) ?? 0) + 1);
      if (this.faults.shouldThrottle(action)) throw throttled();
      q.allowOnly(def.params);
      const result = def.handle({ ec2: this.ec2, region, q, faults: this.faults, fingerprint: fingerprint(body) });
      return { status: 200, body: renderResponse(action, id, result), requestId: id, action };
    } catch (err) {
      const error = err instanceof Ec2Error ? err : internalError(err, action, this.onError);
      return {
        status: error.status,
        body: renderError(error.code, error.message, id),
        requestId: id,
        action,
        code: error.code,
      };
    }
  }
}

function internalError(err: unknown, action: string, report: (err: unknown, action: string) => void): Ec2Error {
  report(err, action);
  return new Ec2Error('InternalError', 'An internal error has occurred', 500);
}

function fingerprint(body: string): string {
  return [...new URLSearchParams(body)]
    .filter(([k]) => !NOT_MEANING.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join('&');
}
