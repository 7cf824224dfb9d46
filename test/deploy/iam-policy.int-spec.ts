import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClients } from '../../src/aws/aws-clients.service';
import { AppConfig } from '../../src/config/app-config';
import { Metrics } from '../../src/metrics/metrics.service';
import { EVENT_RULES, SetupService } from '../../src/setup/setup.service';
import { ALLOWED_LAUNCH_KEYS } from '../../src/api/dto/launch.dto';
import { keyPairNameFor, resourceTags } from '../../src/ec2/naming';
import { iamMatches, scanAwsUsage } from './aws-actions';
import { findOne, readManifests, ROOT } from './manifests';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const policy = JSON.parse(readFileSync(join(ROOT, 'deploy', 'iam-policy.json'), 'utf8')) as {
  Version: string;
  Statement: Statement[];
};
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const allowed = policy.Statement.flatMap((s) => s.Action);
/** Actions the code calls through the AWS SDK; iam:PassRole is what EC2 checks when a launch names an instance profile. */
const PASSED = ['iam:PassRole'];
/** Who may call `action` on `arn` under the policy. */
const allows = (action: string, arn: string) =>
  policy.Statement.some((s) => s.Action.includes(action) && resources(s).some((r) => iamMatches(r, arn)));

describe('deploy/iam-policy.json', () => {
  const usage = scanAwsUsage(ROOT, 'src', ['src/sandbox']);

  it('is a plain Allow policy naming each action once, without wildcards', () => {
    expect(policy.Version).toBe('2012-10-17');
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      for (const action of s.Action) expect(action).toMatch(/^(ec2|sqs|events|iam|pricing):[A-Z][A-Za-z]+$/);
    }
    expect(new Set(allowed).size).toBe(allowed.length);
  });

  it('the scan of src/ understands every AWS call it finds', () => {
    expect(usage.problems).toEqual([]);
    expect(usage.actions.size).toBeGreaterThan(0);
  });

  it('allows every action the code uses (src/, without the sandbox)', () => {
    const missing = [...usage.actions]
      .filter(([action]) => !allowed.includes(action))
      .map(([action, files]) => `${action} (used in ${[...files].join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('allows no action the code does not use', () => {
    expect(allowed.filter((action) => !usage.actions.has(action) && !PASSED.includes(action))).toEqual([]);
  });

  it('finds EC2 commands and paginators only in the EC2 gateway (src/ec2)', () => {
    const elsewhere = [...usage.actions]
      .filter(([action]) => action.startsWith('ec2:'))
      .flatMap(([action, files]) =>
        [...files].filter((f) => !f.startsWith('src/ec2/')).map((f) => `${action} in ${f}`),
      );
    expect(elsewhere).toEqual([]);
    expect([...usage.actions.keys()].filter((a) => a.startsWith('ec2:')).length).toBeGreaterThan(0);
  });

  describe('resources, with the deployment settings (deploy/kubernetes/configmap.yaml)', () => {
    const configMap = findOne(readManifests(), 'ConfigMap');
    const config = AppConfig.forTest({ QUEUE_NAME: configMap.data.QUEUE_NAME });
    const setup = new SetupService(config, new AwsClients(config, new Metrics()));
    const sqsActions = allowed.filter((a) => a.startsWith('sqs:'));
    const eventsActions = allowed.filter((a) => a.startsWith('events:'));
    const account = '123456789012';

    const managerId = configMap.data.MANAGER_ID;
    const statementOf = (action: string) => {
      const found = policy.Statement.filter((s) => s.Action.includes(action));
      expect(found).toHaveLength(1);
      return found[0];
    };

    it("EC2: terminates instances, cancels spot requests and deletes launch templates only where the Owner tag is this manager's id", () => {
      for (const action of ['ec2:TerminateInstances', 'ec2:CancelSpotInstanceRequests', 'ec2:DeleteLaunchTemplate']) {
        expect(statementOf(action).Condition).toEqual({ StringEquals: { 'ec2:ResourceTag/Owner': managerId } });
      }
    });

    it('EC2: tags only with the tags of SPEC §2 naming this manager, never what another Owner tag claims', () => {
      const tags = resourceTags(managerId, 'builder');
      expect(statementOf('ec2:CreateTags').Condition).toEqual({
        StringEquals: { 'aws:RequestTag/Owner': tags.find((t) => t.Key === 'Owner')!.Value },
        'ForAllValues:StringEquals': { 'aws:TagKeys': tags.map((t) => t.Key).sort() },
        StringEqualsIfExists: { 'ec2:ResourceTag/Owner': managerId },
      });
    });

    it("EC2: imports and deletes only this manager's key pairs", () => {
      const config = AppConfig.forTest({ MANAGER_ID: managerId });
      for (const action of ['ec2:ImportKeyPair', 'ec2:DeleteKeyPair']) {
        const arn = (name: string) => `arn:aws:ec2:us-east-1:${account}:key-pair/${name}`;
        expect(allows(action, arn(keyPairNameFor(config, 'builder')))).toBe(true);
        expect(allows(action, arn('deploy-key'))).toBe(false);
        expect(allows(action, arn(`${managerId}-other:builder:abc1234`))).toBe(false);
      }
    });

    it('IAM: passes instance roles to EC2 only, under one path, as launches with IamInstanceProfile need', () => {
      expect(ALLOWED_LAUNCH_KEYS).toContain('IamInstanceProfile');
      const pass = statementOf('iam:PassRole');
      expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
      expect(resources(pass).every((r) => /^arn:aws:iam::\*:role\/[a-z0-9-]+\/\*$/.test(r))).toBe(true);
      expect(allows('iam:PassRole', `arn:aws:iam::${account}:role/admin`)).toBe(false);
    });

    it('SQS: the events queue and its dead-letter queue in any region, no other queue', () => {
      for (const region of ['us-east-1', 'eu-central-1']) {
        for (const name of [config.queueName, config.deadLetterQueueName]) {
          for (const action of sqsActions)
            expect(allows(action, `arn:aws:sqs:${region}:${account}:${name}`)).toBe(true);
        }
        for (const action of sqsActions) {
          expect(allows(action, `arn:aws:sqs:${region}:${account}:orders`)).toBe(false);
        }
      }
    });

    it('EventBridge: the rules setup makes, no other rule', () => {
      for (const rule of EVENT_RULES) {
        const arn = `arn:aws:events:us-west-2:${account}:rule/${setup.ruleName(rule.suffix)}`;
        for (const action of eventsActions) expect(allows(action, arn)).toBe(true);
      }
      for (const action of eventsActions) {
        expect(allows(action, `arn:aws:events:us-west-2:${account}:rule/billing-alerts`)).toBe(false);
      }
    });
  });

  describe('the scan itself', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'iam-scan-'));
      mkdirSync(join(dir, 'src', 'sandbox'), { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const write = (file: string, text: string) => writeFileSync(join(dir, file), text);
    const scan = () => scanAwsUsage(dir, 'src', ['src/sandbox']);

    it('finds commands and paginators, maps batch calls, skips types, the sandbox and unit tests', () => {
      write(
        'src/a.ts',
        [
          "import { RunInstancesCommand, paginateDescribeVolumes, type DescribeImagesCommand } from '@aws-sdk/client-ec2';",
          "import type { TerminateInstancesCommand } from '@aws-sdk/client-ec2';",
          "import { DeleteMessageBatchCommand as Del } from '@aws-sdk/client-sqs';",
          "import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';",
        ].join('\n'),
      );
      write('src/sandbox/x.ts', "import { ImportKeyPairCommand } from '@aws-sdk/client-ec2';");
      write('src/a.spec.ts', "import { DeleteKeyPairCommand } from '@aws-sdk/client-ec2';");
      const usage = scan();
      expect(usage.problems).toEqual([]);
      expect([...usage.actions.keys()].sort()).toEqual([
        'ec2:DescribeVolumes',
        'ec2:RunInstances',
        'events:PutEvents',
        'sqs:DeleteMessage',
      ]);
    });

    it('counts what the SQS consumer library sends, read from its code', () => {
      write(
        'src/l.ts',
        "import { SqsModule, SqsService } from '@ssut/nestjs-sqs';\nconst f = (s: SqsService) => s.purgeQueue('q');",
      );
      const usage = scan();
      expect([...usage.actions.keys()].sort()).toEqual([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:PurgeQueue',
        'sqs:ReceiveMessage',
      ]);
    });

    it('names what it cannot trace: another AWS client, waiters, aggregated clients, export *', () => {
      write(
        'src/b.ts',
        [
          "import { AssumeRoleCommand } from '@aws-sdk/client-sts';",
          "import { waitUntilInstanceRunning, EC2 } from '@aws-sdk/client-ec2';",
          "export * from '@aws-sdk/client-sqs';",
        ].join('\n'),
      );
      expect(scan().problems).toEqual([
        'src/b.ts: imports @aws-sdk/client-sts, whose IAM prefix this test does not know',
        'src/b.ts: waiter waitUntilInstanceRunning from @aws-sdk/client-ec2: add the operations it polls to this scan',
        'src/b.ts: aggregated client EC2 from @aws-sdk/client-ec2: use XxxClient and commands',
        'src/b.ts: re-exports all of @aws-sdk/client-sqs; import the commands where they are used',
      ]);
    });

    it('matches IAM wildcards', () => {
      expect(iamMatches('arn:aws:sqs:*:*:ec2-events*', 'arn:aws:sqs:us-east-1:1:ec2-events-dead')).toBe(true);
      expect(iamMatches('arn:aws:sqs:*:*:ec2-events*', 'arn:aws:sqs:us-east-1:1:my-ec2-events')).toBe(false);
      expect(iamMatches('arn:aws:events:*:*:rule/ec2-events-?', 'arn:aws:events:x:1:rule/ec2-events-ab')).toBe(false);
    });
  });
});
