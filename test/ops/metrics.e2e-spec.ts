import {
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import request from 'supertest';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { InstanceRepository } from '../../src/state/instance.repository';
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { AwsClients } from '../../src/aws/aws-clients.service';
import { JobScheduler } from '../../src/jobs/job-scheduler.service';
import { SetupService } from '../../src/setup/setup.service';
import { makeInstance } from '../factories';
import { AppHarness, createAppHarness } from '../app-harness';

describe('GET /metrics', () => {
  let h: AppHarness;

  beforeAll(async () => (h = await createAppHarness()));
  afterAll(() => h.close());

  const value = (m: Awaited<ReturnType<typeof scrape>>, name: string, labels: Record<string, string>) => {
    const sample = m.get(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
    return sample === undefined ? undefined : Number(sample.value ?? sample.count);
  };

  const scrape = async () => {
    const res = await request(h.app.getHttpServer()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
    // The parser throws on anything that is not the text exposition format.
    return new Map(parsePrometheusTextFormat(res.text).map((f) => [f.name, f]));
  };

  it('is valid Prometheus text, and its counters move with AWS calls, HTTP requests and state', async () => {
    const before = await scrape();
    const ec2 = h.get(Ec2Clients);
    await ec2.client('us-east-1').send(new DescribeAvailabilityZonesCommand({}));
    await ec2
      .client('us-east-1')
      .send(new DescribeInstancesCommand({ InstanceIds: ['i-0000000000000000f'] }))
      .catch(() => undefined);
    const { instanceIds } = h.sandbox.control.seedInstances({ region: 'us-east-1', count: 1 });
    await ec2
      .client('us-east-1')
      .send(new TerminateInstancesCommand({ InstanceIds: instanceIds, DryRun: true }))
      .catch(() => undefined);
    await h
      .get(InstanceRepository)
      .upsertMany([makeInstance({ state: 'running' }), makeInstance({ state: 'running' })]);
    await request(h.app.getHttpServer()).get('/health/live').expect(200);

    const after = await scrape();
    const ok = { service: 'ec2', region: 'us-east-1', operation: 'DescribeAvailabilityZones', outcome: 'success' };
    expect(value(after, 'ec2_manager_aws_calls_total', ok)).toBe(
      (value(before, 'ec2_manager_aws_calls_total', ok) ?? 0) + 1,
    );
    // An id EC2 does not know is an answer, not an error.
    const notFound = { service: 'ec2', region: 'us-east-1', operation: 'DescribeInstances', outcome: 'not-found' };
    expect(value(after, 'ec2_manager_aws_calls_total', notFound)).toBe(1);
    const dryRun = { service: 'ec2', region: 'us-east-1', operation: 'TerminateInstances', outcome: 'dry-run' };
    expect(value(after, 'ec2_manager_aws_calls_total', dryRun)).toBe(1);
    const latency = after.get('ec2_manager_aws_call_duration_seconds');
    expect(latency?.type).toBe('HISTOGRAM');
    expect(latency?.metrics.some((s) => Number(s.buckets?.['+Inf'] ?? 0) > 0)).toBe(true);
    expect(value(after, 'ec2_manager_instances', { region: 'us-east-1', state: 'running' })).toBe(2);
    expect(
      value(after, 'ec2_manager_http_requests_total', { method: 'GET', route: '/health/live', status: '200' }),
    ).toBe(1);
    // Node's own metrics under the names stock dashboards expect.
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(after.has(name)).toBe(true);
    }
    expect([...after.keys()].filter((n) => /^ec2_manager_(process|nodejs)_/.test(n))).toEqual([]);
  });

  it('counts the not-found answers setup expects as not-found, never as error', async () => {
    // On a new sandbox every queue and rule setup looks for is missing at first.
    await h.get(SetupService).run();
    const m = await scrape();
    expect(
      value(m, 'ec2_manager_aws_calls_total', { service: 'sqs', operation: 'GetQueueUrl', outcome: 'not-found' }),
    ).toBeGreaterThan(0);
    const errors = m.get('ec2_manager_aws_calls_total')?.metrics.filter((s) => s.labels?.outcome === 'error') ?? [];
    expect(errors.filter((s) => ['sqs', 'events'].includes(String(s.labels?.service)))).toEqual([]);
    expect(
      value(m, 'ec2_manager_aws_calls_total', { service: 'events', operation: 'DescribeRule', outcome: 'not-found' }),
    ).toBeGreaterThan(0);
  });

  it("shows each region's queue depth, in-flight and dead-letter depth, and how long ago each job succeeded", async () => {
    const region = 'us-east-1';
    await h.get(SetupService).run();
    const sqs = h.get(AwsClients).sqs(region);
    const url = async (name: string) => (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    const events = await url(h.config.queueName);
    for (const n of [1, 2, 3]) await sqs.send(new SendMessageCommand({ QueueUrl: events, MessageBody: `m${n}` }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: events, MaxNumberOfMessages: 1, VisibilityTimeout: 60 }));
    await sqs.send(new SendMessageCommand({ QueueUrl: await url(h.config.deadLetterQueueName), MessageBody: 'dead' }));
    expect(await h.get(JobScheduler).runner('housekeeping').tick(true)).toBe('ran');

    const m = await scrape();
    expect(value(m, 'ec2_manager_queue_messages_visible', { region })).toBe(2);
    expect(value(m, 'ec2_manager_queue_messages_in_flight', { region })).toBe(1);
    expect(value(m, 'ec2_manager_queue_dead_letter_messages', { region })).toBe(1);
    expect(value(m, 'ec2_manager_queue_messages_visible', { region: 'us-west-2' })).toBe(0);
    const age = value(m, 'ec2_manager_job_last_success_age_seconds', { job: 'housekeeping' });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    expect(value(m, 'ec2_manager_job_last_success_age_seconds', { job: 'pricing' })).toBeUndefined();
  });
});
