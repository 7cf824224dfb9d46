import {
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import request from 'supertest';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { InstanceRepository } from '../../src/state/instance.repository';
import { makeInstance } from '../factories';
import { AppHarness, createAppHarness } from '../app-harness';

describe('GET /metrics', () => {
  let h: AppHarness;

  beforeAll(async () => (h = await createAppHarness()));
  afterAll(() => h.close());

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
    const value = (m: typeof after, name: string, labels: Record<string, string>) => {
      const sample = m.get(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
      return Number(sample?.value ?? sample?.count ?? 0);
    };

    const ok = { service: 'ec2', region: 'us-east-1', operation: 'DescribeAvailabilityZones', outcome: 'success' };
    expect(value(after, 'ec2_manager_aws_calls_total', ok)).toBe(value(before, 'ec2_manager_aws_calls_total', ok) + 1);
    const failed = { service: 'ec2', region: 'us-east-1', operation: 'DescribeInstances', outcome: 'error' };
    expect(value(after, 'ec2_manager_aws_calls_total', failed)).toBe(1);
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
});
