import { compilePattern, EventPattern, InvalidPatternError } from './pattern';

/** An EventBridge API error, rendered as `{"__type": code, "message": …}`. */
export class EventsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'EventsError';
  }
}

export interface Target {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  [other: string]: unknown;
}

export interface Rule {
  name: string;
  arn: string;
  region: string;
  eventPattern?: string;
  pattern?: EventPattern;
  scheduleExpression?: string;
  state: string;
  description?: string;
  roleArn?: string;
  targets: Map<string, Target>;
}

const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;
const MAX_TARGETS = 5;

export interface PutRuleInput {
  name: string;
  eventPattern?: string;
  scheduleExpression?: string;
  state?: string;
  description?: string;
  roleArn?: string;
}

/** Rules on each region's default event bus. */
export class RuleStore {
  private readonly byRegion = new Map<string, Map<string, Rule>>();

  constructor(private readonly accountId: string) {}

  clear(): void {
    this.byRegion.clear();
  }

  rules(region: string): Map<string, Rule> {
    let rules = this.byRegion.get(region);
    if (!rules) {
      rules = new Map();
      this.byRegion.set(region, rules);
    }
    return rules;
  }

  all(): Rule[] {
    return [...this.byRegion.values()].flatMap((m) => [...m.values()]);
  }

  get(region: string, name: string): Rule {
    const rule = this.rules(region).get(name);
    if (!rule) throw new EventsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus default.`);
    return rule;
  }

  put(region: string, input: PutRuleInput): Rule {
    if (!RULE_NAME.test(input.name)) {
      throw new EventsError(
        'ValidationException',
        `1 validation error detected: Value '${input.name}' at 'name' failed to satisfy constraint`,
      );
    }
    if (input.eventPattern === undefined && input.scheduleExpression === undefined) {
      throw new EventsError(
        'ValidationException',
        'Parameter(s) EventPattern or ScheduleExpression must be specified.',
      );
    }
    let pattern: EventPattern | undefined;
    if (input.eventPattern !== undefined) {
      try {
        pattern = compilePattern(input.eventPattern);
      } catch (err) {
        if (err instanceof InvalidPatternError) throw new EventsError('InvalidEventPatternException', err.message);
        throw err;
      }
    }
    const state = input.state ?? 'ENABLED';
    if (!['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'].includes(state)) {
      throw new EventsError('ValidationException', `Value '${state}' at 'state' failed to satisfy constraint`);
    }
    const rules = this.rules(region);
    const existing = rules.get(input.name);
    const rule: Rule = {
      name: input.name,
      arn: `arn:aws:events:${region}:${this.accountId}:rule/${input.name}`,
      region,
      eventPattern: input.eventPattern,
      pattern,
      scheduleExpression: input.scheduleExpression,
      state,
      description: input.description,
      roleArn: input.roleArn,
      targets: existing?.targets ?? new Map<string, Target>(),
    };
    rules.set(input.name, rule);
    return rule;
  }

  delete(region: string, name: string, force: boolean): void {
    const rule = this.rules(region).get(name);
    if (!rule) return;
    if (rule.targets.size > 0 && !force) {
      throw new EventsError('ValidationException', "Rule can't be deleted since it has targets.");
    }
    this.rules(region).delete(name);
  }

  putTargets(region: string, ruleName: string, targets: Target[]): { id: string; code: string; message: string }[] {
    const rule = this.get(region, ruleName);
    const failed: { id: string; code: string; message: string }[] = [];
    const ids = new Set([...rule.targets.keys(), ...targets.map((t) => t.Id)]);
    if (ids.size > MAX_TARGETS) {
      throw new EventsError('LimitExceededException', `The requested resource exceeds the maximum number allowed.`);
    }
    for (const target of targets) {
      if (typeof target.Id !== 'string' || !TARGET_ID.test(target.Id)) {
        throw new EventsError('ValidationException', `Invalid target id ${String(target.Id)}`);
      }
      if (typeof target.Arn !== 'string' || !target.Arn.startsWith('arn:')) {
        failed.push({ id: target.Id, code: 'ValidationException', message: `Invalid ARN ${String(target.Arn)}` });
        continue;
      }
      if (target.Input !== undefined && target.InputPath !== undefined) {
        failed.push({ id: target.Id, code: 'ValidationException', message: 'Only one of Input and InputPath.' });
        continue;
      }
      rule.targets.set(target.Id, target);
    }
    return failed;
  }

  removeTargets(region: string, ruleName: string, ids: string[]): void {
    const rule = this.get(region, ruleName);
    for (const id of ids) rule.targets.delete(id);
  }

  /** Enabled rules of the region whose pattern matches the event. */
  matching(region: string, event: unknown): Rule[] {
    return [...this.rules(region).values()].filter((r) => r.state !== 'DISABLED' && r.pattern?.matches(event));
  }
}
