import { Faults } from '../faults';
import { dryRunSucceeded } from './errors';
import { RegionState } from './model';
import { Query } from './query';
import { SimEc2 } from './sim-ec2';
import { XmlObject } from './xml';

export interface ActionContext {
  ec2: SimEc2;
  region: RegionState;
  q: Query;
  faults: Faults;
  /** The request parameters, minus those that do not change its meaning, for ClientToken comparison. */
  fingerprint: string;
}

export interface ActionDef {
  /** Top-level parameters the operation accepts; anything else is `UnknownParameter`. */
  params: ReadonlySet<string>;
  handle(ctx: ActionContext): XmlObject;
}

export function action(params: string[], handle: (ctx: ActionContext) => XmlObject): ActionDef {
  return { params: new Set(params), handle };
}

/** Call once the request has been fully validated: DryRun must answer as the real call would have. */
export function checkDryRun(ctx: ActionContext): void {
  if (ctx.q.bool('DryRun')) throw dryRunSucceeded();
}
