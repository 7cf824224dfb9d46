import { Faults } from '../faults';
import { dryRunSucceeded, Ec2Error } from './errors';
import { IdempotencyRecord, RegionState } from './model';
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

/**
 * A retried launch: the record of the first call with this ClientToken, when there was one. The same
 * token with other parameters is refused, as EC2 does; a DryRun of a retry answers as a DryRun.
 */
export function replayOf(
  tokens: Map<string, IdempotencyRecord>,
  clientToken: string | undefined,
  ctx: ActionContext,
): IdempotencyRecord | undefined {
  if (clientToken === undefined) return undefined;
  const previous = tokens.get(clientToken);
  if (!previous) return undefined;
  if (previous.fingerprint !== ctx.fingerprint) {
    throw new Ec2Error(
      'IdempotentParameterMismatch',
      `The client token '${clientToken}' was used with other parameters.`,
    );
  }
  checkDryRun(ctx);
  return previous;
}
