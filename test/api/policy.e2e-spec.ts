import { AppHarness } from '../app-harness';
import { launchExamples } from '../../src/api/launch/launch-examples';
import { InstanceRepository } from '../../src/state/instance.repository';
import { api, bearer, createApiHarness, TOKENS } from './support';

const WT = 'builder';
const auth = bearer(TOKENS.builder);

describe('worker-type policy (SPEC §11)', () => {
  let h: AppHarness;
  let examples: ReturnType<typeof launchExamples>;
  let token = 0;

  const policyUrl = `/v1/worker-types/${WT}/policy`;
  const putPolicy = (body: object) => api(h).put(policyUrl).set(auth).send(body);
  const run = (instanceType = 'm5.large') =>
    api(h)
      .put(`/v1/worker-types/${WT}/instance`)
      .set(auth)
      .send({
        ...examples.onDemand,
        ClientToken: `policy-${++token}`,
        LaunchInfo: { ...examples.onDemand.LaunchInfo, InstanceType: instanceType },
      });
  const spot = (instanceType = 'm5.large') =>
    api(h)
      .put(`/v1/worker-types/${WT}/spot-request`)
      .set(auth)
      .send({
        ...examples.spot,
        ClientToken: `policy-${++token}`,
        LaunchSpecification: { ...examples.spot.LaunchSpecification, InstanceType: instanceType },
      });
  const ec2Instances = () => h.sandbox.control.state().regions['us-east-1'].instances ?? [];

  beforeAll(async () => {
    h = await createApiHarness({ sandbox: { clockSpeed: 0 } });
    examples = launchExamples(h.config);
  });
  afterAll(() => h.close());
  beforeEach(async () => {
    await h.reset();
    // The service remembers key pairs it ensured: forget them with the sandbox's.
    await api(h).delete(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(204);
    await api(h).get(`/v1/worker-types/${WT}/key-pair`).set(auth).expect(200);
  });

  it('is stored, read without a token, replaced whole and deleted', async () => {
    await api(h).get(policyUrl).expect(404);
    const put = await putPolicy({ maxInstances: 5, allowedInstanceTypes: ['m5.*'] }).expect(200);
    expect(put.body).toMatchObject({
      workerType: WT,
      maxInstances: 5,
      maxInstanceLifeHours: null,
      allowedInstanceTypes: ['m5.*'],
    });
    expect((await api(h).get(policyUrl).expect(200)).body).toEqual(put.body);
    const replaced = await putPolicy({ maxInstanceLifeHours: 12.5 }).expect(200);
    expect(replaced.body).toMatchObject({ maxInstances: null, maxInstanceLifeHours: 12.5, allowedInstanceTypes: null });
    await api(h).delete(policyUrl).set(auth).expect(204);
    await api(h).delete(policyUrl).set(auth).expect(204);
    await api(h).get(policyUrl).expect(404);
  });

  it('needs the worker type scope to change, and refuses a bad policy naming every reason', async () => {
    await api(h).put(policyUrl).send({ maxInstances: 1 }).expect(401);
    await api(h).put(`/v1/worker-types/other/policy`).set(auth).send({ maxInstances: 1 }).expect(403);
    const res = await putPolicy({
      maxInstances: -1,
      maxInstanceLifeHours: 'long',
      allowedInstanceTypes: ['M5:*'],
      extra: 1,
    }).expect(400);
    expect(res.body.details.reasons.map((r: { path: string }) => r.path).sort()).toEqual(
      ['allowedInstanceTypes', 'extra', 'maxInstanceLifeHours', 'maxInstances'].sort(),
    );
    await api(h).get(policyUrl).expect(404);
  });

  it('refuses launches of an instance type outside the allowed patterns, launching nothing', async () => {
    await putPolicy({ allowedInstanceTypes: ['c5.*', 'm5.x*'] }).expect(200);
    const refused = await run('m5.large').expect(400);
    expect(refused.body.details.reasons).toEqual([
      expect.objectContaining({ rule: 'policy', path: 'LaunchInfo.InstanceType' }),
    ]);
    const spotRefused = await spot('m5.large').expect(400);
    expect(spotRefused.body.details.reasons[0]).toMatchObject({
      rule: 'policy',
      path: 'LaunchSpecification.InstanceType',
    });
    expect(ec2Instances()).toHaveLength(0);
    expect(h.sandbox.control.state().regions['us-east-1'].spotRequests ?? []).toHaveLength(0);
    await run('c5.large').expect(204);
    await run('m5.xlarge').expect(204);
  });

  it('counts instances and open spot requests against maxInstances; one more is a 409', async () => {
    await putPolicy({ maxInstances: 3 }).expect(200);
    await run().expect(204);
    await spot().expect(204);
    await run().expect(204);
    const full = await run().expect(409);
    expect(full.body).toMatchObject({ code: 'LimitExceeded', details: { maxInstances: 3, counted: 3 } });
    await spot().expect(409);
    expect(ec2Instances()).toHaveLength(2);
    expect(await h.get(InstanceRepository).list({ workerType: WT })).toHaveLength(2);
    // Room again once the cap is lifted; no reservation was left behind by the refused or the finished launches.
    await api(h).delete(policyUrl).set(auth).expect(204);
    await run().expect(204);
    expect(await h.dataSource.query(`SELECT * FROM launch_reservations`)).toEqual([]);
  });

  it('gives the room back when EC2 refuses the launch', async () => {
    await putPolicy({ maxInstances: 1 }).expect(200);
    h.sandbox.control.setCapacity({
      region: 'us-east-1',
      instanceType: 'm5.large',
      capacity: 0,
      lifecycle: 'on-demand',
    });
    await run().expect(503);
    h.sandbox.control.setCapacity({
      region: 'us-east-1',
      instanceType: 'm5.large',
      capacity: null,
      lifecycle: 'on-demand',
    });
    await run().expect(204);
  });
});
