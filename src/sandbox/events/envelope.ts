import { randomUUID } from 'node:crypto';

/** The EventBridge event as delivered to targets (the SQS message body). */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** EventBridge times have second precision: `2025-01-01T12:00:00Z`. */
export function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function makeEnvelope(fields: {
  detailType: string;
  source: string;
  account: string;
  time: number;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}): EventEnvelope {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': fields.detailType,
    source: fields.source,
    account: fields.account,
    time: eventTime(fields.time),
    region: fields.region,
    resources: fields.resources,
    detail: fields.detail,
  };
}
