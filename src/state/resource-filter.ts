/** How instances and spot requests are picked out: every given field must match. */
export interface ResourceFilter<State extends string = string> {
  region?: string;
  workerType?: string;
  state?: State;
  ids?: string[];
}

/** The WHERE clause (possibly empty) and its parameters for a ResourceFilter. */
export function resourceWhere(filter: ResourceFilter): { clause: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown): void => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.region !== undefined) add('region = ?', filter.region);
  if (filter.workerType !== undefined) add('worker_type = ?', filter.workerType);
  if (filter.state !== undefined) add('state = ?', filter.state);
  if (filter.ids !== undefined) add('id = ANY(?::text[])', filter.ids);
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}
