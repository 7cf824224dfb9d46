import { HANDLED_EVENTS, HandledEvent } from '../setup/handled-events';
import { TerminationAction, TerminationNoticeKind } from '../state/entities';

const { stateChange, spotInterruption, rebalance, scheduledChange } = HANDLED_EVENTS;
const is = (e: HandledEvent, source: string, detailType: string) => source === e.source && detailType === e.detailType;

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const INSTANCE_STATES = new Set(['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped']);
/** EC2 gives two minutes between the interruption warning and the interruption. */
const SPOT_NOTICE_MS = 120_000;

export interface StateChangeEvent {
  kind: 'state-change';
  eventId: string;
  region: string;
  instanceId: string;
  state: string;
  time: Date;
}

export interface NoticeEvent {
  kind: 'notice';
  eventId: string;
  region: string;
  notice: TerminationNoticeKind;
  instanceIds: string[];
  action: TerminationAction | null;
  notBefore: Date | null;
  time: Date;
}

export type Ec2Event = StateChangeEvent | NoticeEvent;

/** Why a message was not an event we act on; each is acknowledged, counted and never retried. */
export type Rejection = 'malformed' | 'unknown';

export type ParseResult = { ok: true; event: Ec2Event } | { ok: false; reason: Rejection; message: string };

function reject(reason: Rejection, message: string): ParseResult {
  return { ok: false, reason, message };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads an SQS message body as an EventBridge envelope (SPEC §4) from the given region's queue.
 * Pure: everything it refuses is named, so the caller can log and count it.
 */
export function parseEnvelope(body: string | undefined, queueRegion: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(body ?? '');
  } catch {
    return reject('malformed', 'body is not JSON');
  }
  if (!isRecord(raw)) return reject('malformed', 'body is not a JSON object');
  const { id, region, source, time, detail } = raw;
  const detailType = raw['detail-type'];
  if (typeof id !== 'string' || id.length === 0) return reject('malformed', 'envelope has no id');
  if (typeof detailType !== 'string') return reject('malformed', 'envelope has no detail-type');
  if (typeof source !== 'string') return reject('malformed', 'envelope has no source');
  if (region !== queueRegion) return reject('malformed', `envelope region ${String(region)} is not ${queueRegion}`);
  const ms = typeof time === 'string' ? Date.parse(time) : NaN;
  if (!Number.isFinite(ms)) return reject('malformed', 'envelope time is not a timestamp');
  if (!isRecord(detail)) return reject('malformed', 'envelope has no detail object');
  const at = new Date(ms);
  const base = { eventId: id, region: queueRegion, time: at };

  if (is(stateChange, source, detailType)) {
    const instanceId = detail['instance-id'];
    const state = detail.state;
    if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
      return reject('malformed', 'state change without a valid instance-id');
    }
    if (typeof state !== 'string' || !INSTANCE_STATES.has(state)) {
      return reject('malformed', `state change with unknown state ${JSON.stringify(state)}`);
    }
    return { ok: true, event: { kind: 'state-change', ...base, instanceId, state } };
  }

  if (is(spotInterruption, source, detailType) || is(rebalance, source, detailType)) {
    const instanceId = detail['instance-id'];
    if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
      return reject('malformed', `${detailType} without a valid instance-id`);
    }
    if (detailType === rebalance.detailType) {
      return {
        ok: true,
        event: {
          kind: 'notice',
          ...base,
          notice: 'rebalance-recommendation',
          instanceIds: [instanceId],
          action: null,
          notBefore: null,
        },
      };
    }
    const action = detail['instance-action'];
    if (action !== 'terminate' && action !== 'stop' && action !== 'hibernate') {
      return reject('malformed', `interruption warning with unknown instance-action ${JSON.stringify(action)}`);
    }
    return {
      ok: true,
      event: {
        kind: 'notice',
        ...base,
        notice: 'spot-interruption',
        instanceIds: [instanceId],
        action,
        notBefore: new Date(ms + SPOT_NOTICE_MS),
      },
    };
  }

  if (is(scheduledChange, source, detailType)) {
    if (Object.entries(scheduledChange.detail).some(([field, value]) => detail[field] !== value)) {
      return reject('unknown', `AWS Health event for ${String(detail.service)}/${String(detail.eventTypeCategory)}`);
    }
    const ids = new Set<string>();
    const entities = Array.isArray(detail.affectedEntities) ? (detail.affectedEntities as unknown[]) : [];
    for (const entity of entities) {
      if (isRecord(entity) && typeof entity.entityValue === 'string' && INSTANCE_ID.test(entity.entityValue)) {
        ids.add(entity.entityValue);
      }
    }
    for (const resource of Array.isArray(raw.resources) ? (raw.resources as unknown[]) : []) {
      if (typeof resource === 'string' && INSTANCE_ID.test(resource)) ids.add(resource);
    }
    if (ids.size === 0) return reject('malformed', 'AWS Health scheduled change naming no instance');
    const start = typeof detail.startTime === 'string' ? Date.parse(detail.startTime) : NaN;
    return {
      ok: true,
      event: {
        kind: 'notice',
        ...base,
        notice: 'scheduled-change',
        instanceIds: [...ids].sort(),
        action: scheduledAction(typeof detail.eventTypeCode === 'string' ? detail.eventTypeCode : ''),
        notBefore: Number.isFinite(start) ? new Date(start) : null,
      },
    };
  }

  return reject('unknown', `unknown event ${source} / ${detailType}`);
}

/** `AWS_EC2_INSTANCE_STOP_SCHEDULED` → stop, `..._RETIREMENT_SCHEDULED` → stop (EBS-backed), reboots → null. */
function scheduledAction(code: string): TerminationAction | null {
  if (code.includes('TERMINAT')) return 'terminate';
  if (code.includes('STOP') || code.includes('RETIREMENT')) return 'stop';
  return null;
}

/** Best effort, for dead letters and logs: the instance a body is about, whatever its shape. */
export function instanceIdOf(body: string | undefined): string | undefined {
  try {
    const raw: unknown = JSON.parse(body ?? '');
    if (!isRecord(raw)) return undefined;
    const detail = raw.detail;
    if (isRecord(detail) && typeof detail['instance-id'] === 'string') return detail['instance-id'];
    const resource = (Array.isArray(raw.resources) ? (raw.resources as unknown[]) : []).find(
      (r): r is string => typeof r === 'string' && /(^|\/)i-[0-9a-f]+$/.test(r),
    );
    return resource?.replace(/^.*\//, '');
  } catch {
    return undefined;
  }
}
