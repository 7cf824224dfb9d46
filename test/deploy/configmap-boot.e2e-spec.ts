import request from 'supertest';
import { SetupService } from '../../src/setup/setup.service';
import { AppHarness, createAppHarness } from '../app-harness';
import { findOne, readManifests } from './manifests';

/**
 * The service as the Deployment configures it: the ConfigMap's settings (AWS_MODE=aws, production,
 * JSON logs, migrations at start), the Secret's filled in, and the sandbox standing in for AWS as any
 * AWS-compatible endpoint would. What the harness adds for tests (own database, no periodic jobs, short
 * long polls) is left where the ConfigMap does not speak.
 */
describe('deploy/kubernetes/configmap.yaml boots the service', () => {
  let h: AppHarness;
  const configMap = findOne(readManifests(), 'ConfigMap').data as Record<string, string>;

  beforeAll(async () => {
    // In aws mode the SDK takes credentials from its default chain, as from IRSA in the pod.
    process.env.AWS_ACCESS_KEY_ID = 'AKIASANDBOX';
    process.env.AWS_SECRET_ACCESS_KEY = 'sandbox-secret';
    h = await createAppHarness({
      env: {
        ...configMap,
        INSTANCE_PUBKEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB5ZbKPyVMmfRRlHAr7UFOmW4cMXr5dWsJbVhTz3lAUT ops@example',
        API_CLIENTS: '[]',
      },
      init: false,
    });
    // What the setup Job does before the first start.
    const report = await h.get(SetupService).run();
    expect(report.created.length).toBeGreaterThan(0);
    await h.app.init();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('runs in aws mode with the ConfigMap settings', () => {
    expect(h.config.awsMode).toBe('aws');
    expect(h.config.regions).toEqual(configMap.REGIONS.split(','));
    expect(h.config.queueName).toBe(configMap.QUEUE_NAME);
  });

  it('answers the probes and the metrics scrape the manifests point at', async () => {
    const server = h.app.getHttpServer();
    await request(server).get('/health/live').expect(200);
    await request(server).get('/health/ready').expect(200);
    const metrics = await request(server).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^ec2_manager_/m);
  });
});
