import { EventDelivery } from './delivery';
import { makeEnvelope } from './envelope';
import { EventsError, Rule, RuleStore, Target } from './rules';

export interface EventsReply {
  status: number;
  body: Record<string, unknown>;
  code?: string;
}

type Input = Record<string, unknown>;
type Handler = (input: Input, region: string) => Record<string, unknown>;

function str(input: Input, key: string, required: true): string;
function str(input: Input, key: string, required?: false): string | undefined;
function str(input: Input, key: string, required = false): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) {
    if (required)
      throw new EventsError('ValidationException', `1 validation error detected: '${key}' must not be null`);
    return undefined;
  }
  if (typeof value !== 'string') throw new EventsError('ValidationException', `'${key}' must be a string`);
  return value;
}

function limit(input: Input): number {
  const value = input.Limit;
  if (value === undefined) return 100;
  if (typeof value !== 'number' || value < 1 || value > 100) {
    throw new EventsError('ValidationException', "'Limit' must be between 1 and 100");
  }
  return value;
}

function checkBus(input: Input): void {
  const bus = str(input, 'EventBusName');
  if (bus !== undefined && bus !== 'default' && !/:event-bus\/default$/.test(bus)) {
    throw new EventsError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
  }
}

function page<T>(items: T[], input: Input): { items: T[]; next?: string } {
  const token = str(input, 'NextToken');
  const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isInteger(start) || start < 0) throw new EventsError('ValidationException', 'Invalid NextToken');
  const size = limit(input);
  const end = start + size;
  return {
    items: items.slice(start, end),
    next: end < items.length ? Buffer.from(String(end)).toString('base64url') : undefined,
  };
}

function describe(rule: Rule): Record<string, unknown> {
  return {
    Name: rule.name,
    Arn: rule.arn,
    EventPattern: rule.eventPattern,
    ScheduleExpression: rule.scheduleExpression,
    State: rule.state,
    Description: rule.description,
    RoleArn: rule.roleArn,
    EventBusName: 'default',
  };
}

/** The EventBridge JSON 1.1 protocol (`X-Amz-Target: AWSEvents.<Operation>`) on the default bus of each region. */
export class EventsApi {
  private readonly handlers: Record<string, Handler>;

  constructor(
    private readonly rules: RuleStore,
    private readonly delivery: EventDelivery,
    private readonly accountId: string,
    private readonly regions: ReadonlySet<string>,
    private readonly now: () => number,
  ) {
    this.handlers = {
      PutRule: (i, region) => {
        checkBus(i);
        const rule = this.rules.put(region, {
          name: str(i, 'Name', true),
          eventPattern: str(i, 'EventPattern'),
          scheduleExpression: str(i, 'ScheduleExpression'),
          state: str(i, 'State'),
          description: str(i, 'Description'),
          roleArn: str(i, 'RoleArn'),
        });
        return { RuleArn: rule.arn };
      },
      DescribeRule: (i, region) => {
        checkBus(i);
        return describe(this.rules.get(region, str(i, 'Name', true)));
      },
      ListRules: (i, region) => {
        checkBus(i);
        const prefix = str(i, 'NamePrefix') ?? '';
        const all = [...this.rules.rules(region).values()]
          .filter((r) => r.name.startsWith(prefix))
          .sort((a, b) => a.name.localeCompare(b.name));
        const { items, next } = page(all, i);
        return { Rules: items.map(describe), NextToken: next };
      },
      DeleteRule: (i, region) => {
        checkBus(i);
        this.rules.delete(region, str(i, 'Name', true), i.Force === true);
        return {};
      },
      PutTargets: (i, region) => {
        checkBus(i);
        const targets = i.Targets;
        if (!Array.isArray(targets) || targets.length === 0) {
          throw new EventsError('ValidationException', "'Targets' must contain at least one target");
        }
        const failed = this.rules.putTargets(region, str(i, 'Rule', true), targets as Target[]);
        return {
          FailedEntryCount: failed.length,
          FailedEntries: failed.map((f) => ({ TargetId: f.id, ErrorCode: f.code, ErrorMessage: f.message })),
        };
      },
      ListTargetsByRule: (i, region) => {
        checkBus(i);
        const rule = this.rules.get(region, str(i, 'Rule', true));
        const { items, next } = page([...rule.targets.values()], i);
        return { Targets: items, NextToken: next };
      },
      RemoveTargets: (i, region) => {
        checkBus(i);
        const ids = i.Ids;
        if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
          throw new EventsError('ValidationException', "'Ids' must be a list of target ids");
        }
        this.rules.removeTargets(region, str(i, 'Rule', true), ids as string[]);
        return { FailedEntryCount: 0, FailedEntries: [] };
      },
      PutEvents: (i, region) => this.putEvents(i, region),
    };
  }

  handle(target: string, rawBody: string, region: string): EventsReply {
    try {
      const operation = target.replace(/^AWSEvents\./, '');
      const handler = Object.hasOwn(this.handlers, operation) ? this.handlers[operation] : undefined;
      if (!handler) throw new EventsError('UnknownOperationException', `Unknown operation ${operation}`);
      if (!this.regions.has(region)) {
        throw new EventsError('UnrecognizedClientException', `The region '${region}' is not enabled in this sandbox.`);
      }
      let input: unknown;
      try {
        input = rawBody ? JSON.parse(rawBody) : {};
      } catch {
        throw new EventsError('SerializationException', 'Request body is not valid JSON');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new EventsError('SerializationException', 'Request body must be a JSON object');
      }
      return { status: 200, body: handler(input as Input, region) };
    } catch (err) {
      if (err instanceof EventsError) {
        return { status: err.status, body: { __type: err.code, message: err.message }, code: err.code };
      }
      throw err;
    }
  }

  private putEvents(input: Input, region: string): Record<string, unknown> {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      throw new EventsError('ValidationException', "'Entries' must contain between 1 and 10 entries");
    }
    const results = (entries as Input[]).map((entry) => {
      checkBus(entry);
      const source = typeof entry.Source === 'string' ? entry.Source : undefined;
      const detailType = typeof entry.DetailType === 'string' ? entry.DetailType : undefined;
      const detailText = typeof entry.Detail === 'string' ? entry.Detail : undefined;
      if (!source) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid.' };
      if (!detailType) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid.' };
      if (!detailText) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid.' };
      if (source.startsWith('aws.')) {
        return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: `Not authorized for the source.` };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(detailText);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      const resources = Array.isArray(entry.Resources) ? entry.Resources.filter((r) => typeof r === 'string') : [];
      const time = typeof entry.Time === 'number' ? entry.Time * 1000 : this.now();
      const envelope = makeEnvelope({
        detailType,
        source,
        account: this.accountId,
        time,
        region,
        resources,
        detail: detail as Record<string, unknown>,
      });
      this.delivery.emit(envelope);
      return { EventId: envelope.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }
}
