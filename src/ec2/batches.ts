import { awsErrorCode } from '../aws/aws-error';

/** Items per EC2 call, at EC2's documented limits (or SPEC's, where it asks for less). */
export const BATCH = {
  /** TerminateInstances: "Constraints: Up to 1000 instance IDs". */
  terminate: 1000,
  /** CancelSpotInstanceRequests, DescribeSpotInstanceRequests by id: ≤ 100 ids a call (SPEC §5). */
  spotRequestIds: 100,
  /** CreateTags: up to 1000 resources a call. */
  tag: 1000,
  /** Values of one describe filter (EC2 refuses more than 200 with FilterLimitExceeded). */
  filterValues: 200,
  /** MaxResults of paged describes (DescribeInstances, DescribeSpotInstanceRequests, DescribeSpotPriceHistory). */
  page: 1000,
  /** MaxResults of DescribeVolumes. */
  volumePage: 500,
} as const;

/** Splits a list into consecutive slices of at most `size` items. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The error codes with which EC2 refuses a whole call because of some of its ids. */
export interface IdRefusals {
  notFound: readonly string[];
  malformed: readonly string[];
}

export const INSTANCE_IDS: IdRefusals = {
  notFound: ['InvalidInstanceID.NotFound'],
  malformed: ['InvalidInstanceID.Malformed'],
};
export const SPOT_REQUEST_IDS: IdRefusals = {
  notFound: ['InvalidSpotInstanceRequestID.NotFound'],
  malformed: ['InvalidSpotInstanceRequestID.Malformed'],
};
/** CreateTags takes instances, spot requests and volumes at once. */
export const TAGGABLE_IDS: IdRefusals = {
  notFound: [...INSTANCE_IDS.notFound, ...SPOT_REQUEST_IDS.notFound, 'InvalidVolume.NotFound'],
  malformed: [...INSTANCE_IDS.malformed, ...SPOT_REQUEST_IDS.malformed, 'InvalidVolumeID.Malformed', 'InvalidID'],
};

export interface Settled<T> {
  /** What the calls that EC2 accepted answered. */
  results: T[];
  /** Ids EC2 said it does not know: not done, and not proof of anything (EC2's API lags). */
  unknown: string[];
  /** Ids EC2 said are not ids at all. */
  malformed: string[];
}

/**
 * The one way the service handles EC2 refusing a whole call because of some of its ids (it then does
 * nothing for any of them). The ids its message names are set aside and the rest asked again; when it
 * names none of this call's ids, the call is split in halves until each refused id stands alone. Ids set
 * aside are reported as unknown or malformed, never as done. Any other error is thrown as it came.
 */
export async function settleIds<T>(
  ids: readonly string[],
  refusals: IdRefusals,
  call: (ids: string[]) => Promise<T[]>,
): Promise<Settled<T>> {
  const settled: Settled<T> = { results: [], unknown: [], malformed: [] };
  const run = async (batch: string[]): Promise<void> => {
    if (batch.length === 0) return;
    try {
      settled.results.push(...(await call(batch)));
      return;
    } catch (err) {
      const code = awsErrorCode(err);
      const kind = refusals.notFound.includes(code ?? '')
        ? 'unknown'
        : refusals.malformed.includes(code ?? '')
          ? 'malformed'
          : null;
      if (!kind) throw err;
      const mentioned = new Set((err as Error).message.match(/[\w-]+/g) ?? []);
      const named = batch.filter((id) => mentioned.has(id));
      if (named.length > 0) {
        settled[kind].push(...named);
        await run(batch.filter((id) => !mentioned.has(id)));
      } else if (batch.length === 1) {
        settled[kind].push(batch[0]);
      } else {
        const half = Math.ceil(batch.length / 2);
        await run(batch.slice(0, half));
        await run(batch.slice(half));
      }
    }
  };
  await run([...new Set(ids)]);
  return settled;
}
