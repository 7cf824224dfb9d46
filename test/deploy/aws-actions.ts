import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as ts from 'typescript';

/** The IAM service prefix of each AWS SDK client package the service may use. */
const IAM_PREFIX: Record<string, string> = {
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-eventbridge': 'events',
  '@aws-sdk/client-pricing': 'pricing',
};

/** SQS authorizes batch calls by the single-message action (there is no `sqs:DeleteMessageBatch`). */
const BATCH_ACTION: Record<string, string> = {
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
  'sqs:SendMessageBatch': 'sqs:SendMessage',
};

/** The clients that take every operation as a method: a call through them cannot be traced here. */
const AGGREGATED_CLIENTS = new Set(['EC2', 'SQS', 'EventBridge']);

/** `SqsService` (@ssut/nestjs-sqs) methods that call SQS for the caller. */
const SQS_SERVICE_METHODS: Record<string, string> = {
  purgeQueue: 'sqs:PurgeQueue',
  getQueueAttributes: 'sqs:GetQueueAttributes',
};

export interface AwsUsage {
  /** IAM action (`ec2:RunInstances`) → where it is called from. */
  actions: Map<string, Set<string>>;
  /** What this scan cannot turn into actions: each one must be taught to it. */
  problems: string[];
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec|d)\.ts$/.test(f))
    .map((f) => join(dir, f))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/**
 * The AWS operations `new XCommand(...)` or `paginateX(...)` can reach, from the commands and paginators
 * each file imports from an AWS SDK client package (an operation cannot be sent without importing its
 * command), plus those the SQS consumer library sends on the service's behalf.
 */
export function scanAwsUsage(root: string, srcDir: string, exclude: string[]): AwsUsage {
  const usage: AwsUsage = { actions: new Map(), problems: [] };
  const add = (action: string, where: string) => {
    const iamAction = BATCH_ACTION[action] ?? action;
    const set = usage.actions.get(iamAction) ?? new Set<string>();
    set.add(where);
    usage.actions.set(iamAction, set);
  };
  const excluded = exclude.map((e) => join(root, e));
  for (const path of tsFiles(join(root, srcDir))) {
    if (excluded.some((e) => path === e || path.startsWith(`${e}/`))) continue;
    const file = relative(root, path);
    const text = readFileSync(path, 'utf8');
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    for (const statement of source.statements) {
      const isImport = ts.isImportDeclaration(statement);
      if (!isImport && !ts.isExportDeclaration(statement)) continue;
      const spec = statement.moduleSpecifier;
      if (!spec || !ts.isStringLiteral(spec)) continue;
      const module = spec.text;
      if (module === '@ssut/nestjs-sqs') {
        for (const action of sqsConsumerActions()) add(action, `${file} (@ssut/nestjs-sqs consumer)`);
        for (const [method, action] of Object.entries(SQS_SERVICE_METHODS)) {
          if (new RegExp(`\\.${method}\\(`).test(text)) add(action, `${file} (SqsService.${method})`);
        }
        continue;
      }
      if (!module.startsWith('@aws-sdk/client-')) continue;
      const prefix = IAM_PREFIX[module];
      if (!prefix) {
        usage.problems.push(`${file}: imports ${module}, whose IAM prefix this test does not know`);
        continue;
      }
      const names: string[] = [];
      if (isImport) {
        const clause = statement.importClause;
        if (!clause || clause.isTypeOnly) continue;
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) {
          const ns = bindings.name.text;
          for (const m of text.matchAll(new RegExp(`\\b${ns}\\.(\\w+)`, 'g'))) names.push(m[1]);
        } else if (bindings) {
          for (const el of bindings.elements) if (!el.isTypeOnly) names.push((el.propertyName ?? el.name).text);
        }
      } else {
        const clause = statement.exportClause;
        if (statement.isTypeOnly) continue;
        if (!clause || !ts.isNamedExports(clause)) {
          usage.problems.push(`${file}: re-exports all of ${module}; import the commands where they are used`);
          continue;
        }
        for (const el of clause.elements) if (!el.isTypeOnly) names.push((el.propertyName ?? el.name).text);
      }
      for (const name of names) {
        const operation = /^(\w+)Command$/.exec(name)?.[1] ?? /^paginate(\w+)$/.exec(name)?.[1];
        if (operation) add(`${prefix}:${operation}`, file);
        else if (/^waitUntil|^waitFor/.test(name)) {
          usage.problems.push(`${file}: waiter ${name} from ${module}: add the operations it polls to this scan`);
        } else if (AGGREGATED_CLIENTS.has(name)) {
          usage.problems.push(`${file}: aggregated client ${name} from ${module}: use XxxClient and commands`);
        }
      }
    }
  }
  return usage;
}

/** What sqs-consumer (under @ssut/nestjs-sqs) sends: read from its own code, so an upgrade is seen. */
function sqsConsumerActions(): string[] {
  const fromNestjsSqs = dirname(require.resolve('@ssut/nestjs-sqs'));
  const main = require.resolve('sqs-consumer', { paths: [fromNestjsSqs] });
  const code = readdirSync(dirname(main))
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dirname(main), f), 'utf8'))
    .join('\n');
  const operations = [...code.matchAll(/new (?:\w+\.)?(\w+)Command\(/g)].map((m) => `sqs:${m[1]}`);
  if (operations.length === 0) throw new Error(`found no SQS command in ${main}: has sqs-consumer changed shape?`);
  return [...new Set(operations)];
}

/** IAM's wildcard match: `*` any run of characters, `?` exactly one. */
export function iamMatches(pattern: string, value: string): boolean {
  const regex = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${regex}$`).test(value);
}
