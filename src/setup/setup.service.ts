import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueAttributeName,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Injectable, Logger } from '@nestjs/common';
import { hasAwsErrorCode } from '../aws/aws-error';
import { AwsClients } from '../aws/aws-clients.service';
import { AppConfig } from '../config/app-config';
import { HANDLED_EVENTS, HandledEvent } from './handled-events';

/** One line of the setup report: what kind of thing, where, and why it was left if it was. */
export interface SetupItem {
  region: string;
  kind: 'queue' | 'dead-letter-queue' | 'queue-policy' | 'rule' | 'rule-target';
  name: string;
  /** What differed (updated) or why it was left alone (left). */
  detail?: string;
}

export interface SetupReport {
  created: SetupItem[];
  updated: SetupItem[];
  unchanged: SetupItem[];
  /** Things that exist under our names but are not ours: never touched. */
  left: SetupItem[];
}

export interface RegionQueues {
  region: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
}

/** The EventBridge pattern of exactly the events `parseEnvelope` acts on as `event`. */
function patternOf(event: HandledEvent): Record<string, unknown> {
  const detail = event.detail && Object.fromEntries(Object.entries(event.detail).map(([k, v]) => [k, [v]]));
  return { source: [event.source], 'detail-type': [event.detailType], ...(detail ? { detail } : {}) };
}

/**
 * The rule of each event the parser acts on: a Record over its keys, so an event added there does not
 * compile until it has a rule here. The suffixes name rules that exist in deployed accounts: never rename.
 */
const RULES: Record<keyof typeof HANDLED_EVENTS, { suffix: string; what: string }> = {
  stateChange: { suffix: 'state-change', what: 'EC2 instance state changes' },
  spotInterruption: { suffix: 'spot-interruption', what: 'EC2 spot interruption warnings' },
  rebalance: { suffix: 'rebalance', what: 'EC2 rebalance recommendations' },
  scheduledChange: { suffix: 'health', what: 'AWS Health scheduled changes for EC2' },
};

/** The EventBridge rules SPEC §4 needs, each sending its events to the region's queue. */
export const EVENT_RULES: readonly { suffix: string; what: string; pattern: Record<string, unknown> }[] =
  Object.entries(RULES).map(([event, rule]) => ({
    ...rule,
    pattern: patternOf(HANDLED_EVENTS[event as keyof typeof HANDLED_EVENTS]),
  }));

/** Our target's id on each rule; other targets on the rule belong to someone else. */
export const TARGET_ID = 'ec2-manager-queue';
/** The longest SQS keeps a message: dead letters wait for a human. */
const DEAD_LETTER_RETENTION_SECONDS = 1209600;

type Attributes = Partial<Record<QueueAttributeName, string>>;

/**
 * Creates, idempotently, what events need to flow in every region (SPEC §9 setup command): the queue
 * and its dead-letter queue, the EventBridge rules with their targets, and the queue policy letting
 * EventBridge send. A second run changes nothing; a changed setting is updated; a rule under our name
 * that we did not make, other targets and other policy statements are left alone.
 */
@Injectable()
export class SetupService {
  private readonly log = new Logger(SetupService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly aws: AwsClients,
  ) {}

  async run(): Promise<SetupReport> {
    const report: SetupReport = { created: [], updated: [], unchanged: [], left: [] };
    await Promise.all(this.config.regions.map((region) => this.setupRegion(region, report)));
    for (const list of Object.values(report) as SetupItem[][]) list.sort(byRegionKindName);
    return report;
  }

  /** The queue URLs of every region, for the consumers; fails naming the region whose queue is missing. */
  async queues(): Promise<RegionQueues[]> {
    return Promise.all(
      this.config.regions.map(async (region) => {
        const sqs = this.aws.sqs(region);
        const [queueUrl, deadLetterQueueUrl] = await Promise.all(
          [this.config.queueName, this.config.deadLetterQueueName].map(async (name) => {
            const url = await this.queueUrl(sqs, name);
            if (!url) throw new Error(`${region}: queue ${name} does not exist; run \`npm run setup\``);
            return url;
          }),
        );
        return { region, queueUrl, deadLetterQueueUrl };
      }),
    );
  }

  /** The name of one of our rules; EventBridge allows 64 characters. */
  ruleName(suffix: string): string {
    return `${this.config.queueName}-${suffix}`.slice(0, 64);
  }

  private async setupRegion(region: string, report: SetupReport): Promise<void> {
    const sqs = this.aws.sqs(region);
    const events = this.aws.events(region);
    const dead = await this.ensureQueue(region, sqs, 'dead-letter-queue', this.config.deadLetterQueueName, report, {
      MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_SECONDS),
    });
    const main = await this.ensureQueue(region, sqs, 'queue', this.config.queueName, report, {
      VisibilityTimeout: String(this.config.sqsVisibilityTimeoutSeconds),
      MessageRetentionPeriod: String(this.config.sqsMessageRetentionSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dead.arn, maxReceiveCount: this.config.sqsMaxReceiveCount }),
    });
    const ruleArns: string[] = [];
    for (const rule of EVENT_RULES) {
      const arn = await this.ensureRule(region, events, rule, main.arn, report);
      if (arn) ruleArns.push(arn);
    }
    await this.ensurePolicy(region, sqs, main, ruleArns, report);
  }

  private async queueUrl(sqs: SQSClient, name: string): Promise<string | undefined> {
    try {
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    } catch (err) {
      if (hasAwsErrorCode(err, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')) return undefined;
      throw err;
    }
  }

  private async ensureQueue(
    region: string,
    sqs: SQSClient,
    kind: 'queue' | 'dead-letter-queue',
    name: string,
    report: SetupReport,
    desired: Attributes,
  ): Promise<{ url: string; arn: string; policy?: string }> {
    let url = await this.queueUrl(sqs, name);
    const item: SetupItem = { region, kind, name };
    if (!url) {
      url = (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: name,
            Attributes: desired,
            tags: { 'ec2-manager': this.config.managerId },
          }),
        )
      ).QueueUrl!;
      this.note(report, 'created', item);
    } else {
      const current = await this.attributes(sqs, url);
      const changed = Object.entries(desired).filter(([key, value]) => !sameAttribute(key, current[key], value));
      if (changed.length > 0) {
        await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: Object.fromEntries(changed) }));
        this.note(report, 'updated', { ...item, detail: changed.map(([k]) => k).join(', ') });
      } else {
        report.unchanged.push(item);
      }
    }
    const attributes = await this.attributes(sqs, url);
    return { url, arn: attributes.QueueArn!, policy: attributes.Policy };
  }

  private async attributes(sqs: SQSClient, url: string): Promise<Record<string, string | undefined>> {
    const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    return out.Attributes ?? {};
  }

  /** Returns the rule's ARN when it is ours (created, updated or unchanged), undefined when left alone. */
  private async ensureRule(
    region: string,
    events: EventBridgeClient,
    rule: (typeof EVENT_RULES)[number],
    queueArn: string,
    report: SetupReport,
  ): Promise<string | undefined> {
    const name = this.ruleName(rule.suffix);
    const description = `${this.marker()} ${rule.what} to ${this.config.queueName}`;
    const pattern = JSON.stringify(rule.pattern);
    const item: SetupItem = { region, kind: 'rule', name };
    let existing: { EventPattern?: string; State?: string; Description?: string; Arn?: string } | undefined;
    try {
      existing = await events.send(new DescribeRuleCommand({ Name: name }));
    } catch (err) {
      if (!hasAwsErrorCode(err, 'ResourceNotFoundException')) throw err;
    }
    let arn: string | undefined;
    if (!existing) {
      arn = (await events.send(new PutRuleCommand({ Name: name, EventPattern: pattern, Description: description })))
        .RuleArn;
      this.note(report, 'created', item);
    } else if (!existing.Description?.startsWith(this.marker())) {
      this.note(report, 'left', { ...item, detail: 'a rule of this name exists that ec2-manager did not create' });
      return undefined;
    } else {
      const changed: string[] = [];
      if (!sameJson(existing.EventPattern, pattern)) changed.push('EventPattern');
      if (existing.State !== 'ENABLED') changed.push('State');
      if (existing.Description !== description) changed.push('Description');
      if (changed.length > 0) {
        arn = (
          await events.send(
            new PutRuleCommand({ Name: name, EventPattern: pattern, Description: description, State: 'ENABLED' }),
          )
        ).RuleArn;
        this.note(report, 'updated', { ...item, detail: changed.join(', ') });
      } else {
        arn = existing.Arn;
        report.unchanged.push(item);
      }
    }
    await this.ensureTarget(region, events, name, queueArn, report);
    return arn;
  }

  private async ensureTarget(
    region: string,
    events: EventBridgeClient,
    rule: string,
    queueArn: string,
    report: SetupReport,
  ): Promise<void> {
    const item: SetupItem = { region, kind: 'rule-target', name: `${rule}/${TARGET_ID}` };
    const targets = (await events.send(new ListTargetsByRuleCommand({ Rule: rule }))).Targets ?? [];
    const ours = targets.find((t) => t.Id === TARGET_ID);
    if (ours && ours.Arn === queueArn && ours.Input === undefined && ours.InputPath === undefined) {
      report.unchanged.push(item);
      return;
    }
    const out = await events.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: TARGET_ID, Arn: queueArn }] }));
    if (out.FailedEntryCount) {
      const failed = out.FailedEntries?.[0];
      throw new Error(`${region}: target on rule ${rule} refused: ${failed?.ErrorCode} ${failed?.ErrorMessage}`);
    }
    this.note(report, ours ? 'updated' : 'created', ours ? { ...item, detail: 'Arn' } : item);
  }

  /**
   * Our statement lets EventBridge send to the queue from our rules only; statements of others in the
   * same policy are kept as they are.
   */
  private async ensurePolicy(
    region: string,
    sqs: SQSClient,
    queue: { url: string; arn: string; policy?: string },
    ruleArns: string[],
    report: SetupReport,
  ): Promise<void> {
    const sid = `ec2-manager-${this.config.managerId}-events`;
    const item: SetupItem = { region, kind: 'queue-policy', name: `${this.config.queueName}/${sid}` };
    const statement = {
      Sid: sid,
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: queue.arn,
      Condition: { ArnEquals: { 'aws:SourceArn': [...ruleArns].sort() } },
    };
    const current = parsePolicy(queue.policy);
    const others = current.Statement.filter((s) => s.Sid !== sid);
    const existing = current.Statement.find((s) => s.Sid === sid);
    if (existing && sameJson(JSON.stringify(existing), JSON.stringify(statement))) {
      report.unchanged.push(item);
      return;
    }
    const policy = { Version: current.Version ?? '2012-10-17', Statement: [...others, statement] };
    await sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: { Policy: JSON.stringify(policy) } }),
    );
    this.note(report, existing ? 'updated' : 'created', existing ? { ...item, detail: 'Statement' } : item);
  }

  private marker(): string {
    return `ec2-manager ${this.config.managerId}:`;
  }

  private note(report: SetupReport, action: 'created' | 'updated' | 'left', item: SetupItem): void {
    report[action].push(item);
    // The report lists each item (the setup command prints it, the service logs its counts): once is enough.
    this.log.debug({ msg: `setup: ${action}`, ...item });
  }
}

function byRegionKindName(a: SetupItem, b: SetupItem): number {
  return a.region.localeCompare(b.region) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name);
}

/** SQS answers JSON attributes re-serialised, so those compare by content. */
function sameAttribute(key: string, current: string | undefined, desired: string): boolean {
  if (current === undefined) return false;
  return key === 'RedrivePolicy' || key === 'Policy' ? sameJson(current, desired) : current === desired;
}

function sameJson(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return a === b;
  }
}

/** JSON with sorted keys and numbers-as-strings folded, so `{"a":5}` equals `{"a":"5"}` as SQS may answer. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  if (typeof value === 'number') return JSON.stringify(String(value));
  return JSON.stringify(value);
}

interface PolicyDocument {
  Version?: string;
  Statement: { Sid?: string; [key: string]: unknown }[];
}

function parsePolicy(policy: string | undefined): PolicyDocument {
  if (!policy) return { Statement: [] };
  const parsed = JSON.parse(policy) as { Version?: string; Statement?: unknown };
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
  return { Version: parsed.Version, Statement: statements as PolicyDocument['Statement'] };
}
