import type { EC2Client } from '@aws-sdk/client-ec2';
import type { InitializeHandlerOptions, InitializeMiddleware } from '@smithy/types';
import { AppHarness } from '../app-harness';
import { makeInstance, makeSpotRequest } from '../factories';
import { Ec2Clients } from '../../src/ec2/ec2-clients.service';
import { Ec2Gateway } from '../../src/ec2/ec2-gateway.service';
import { keyPairNameFor } from '../../src/ec2/naming';
import { Metrics } from '../../src/metrics/metrics.service';
import { InstanceRepository } from '../../src/state/instance.repository';
import { SpotRequestRepository } from '../../src/state/spot-request.repository';
import { api, bearer, createApiHarness, TOKENS } from './support';

const WT = 'builder';

describe('terminate and cancel API', () => {
  let h: AppHarness;
  let keyName: string;
  const admin = bearer(TOKENS.admin);

  const sandboxInstance = (region: string, id: string) =>
    h.sandbox.control.state({ region }).regions[region].instances!.find((i) => i.instanceId === id)!;
  const sandboxRequest = (region: string, id: string) =>
    h.sandbox.control.state({ region }).regions[region].spotRequests!.find((r) => r.spotInstanceRequestId === id)!;
  const calls = async (operation: string) =>
    (await h.get(Metrics).awsCalls.get()).values
      .filter((v) => v.labels.operation === operation)
      .reduce((n, v) => n + v.value, 0);

  beforeAll(async () => {
    h = await createApiHarness();
    keyName = keyPairNameFor(h.config, WT);
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  describe('terminateWorkerType', () => {
    it('terminates every instance and cancels every request of the worker type in every region, batched', async () => {
      const east = h.sandbox.control.seedInstances({ region: 'us-east-1', count: 7, keyName }).instanceIds;
      const west = h.sandbox.control.seedInstances({ region: 'us-west-2', count: 3, keyName }).instanceIds;
      // An older key (another INSTANCE_PUBKEY) of the same worker type is still ours.
      const oldKey = h.sandbox.control.seedInstances({
        region: 'us-west-2',
        count: 1,
        keyName: `${h.config.managerId}:${WT}:0000000`,
      }).instanceIds;
      const requests = h.sandbox.control.seedSpotRequests({
        region: 'us-east-1',
        count: 4,
        keyName,
      }).spotInstanceRequestIds;
      const others = h.sandbox.control.seedInstances({
        region: 'us-east-1',
        count: 2,
        keyName: keyPairNameFor(h.config, 'other'),
      }).instanceIds;
      const foreign = h.sandbox.control.seedInstances({
        region: 'us-east-1',
        count: 1,
        keyName: `someone-else:${WT}:abcdef0`,
      }).instanceIds;
      // Some are in state, some EC2 knows before its events arrive.
      await h.get(InstanceRepository).upsertMany(east.slice(0, 3).map((id) => makeInstance({ id, state: 'running' })));
      await h.get(SpotRequestRepository).upsert(makeSpotRequest({ id: requests[0] }));
      await h.get(InstanceRepository).upsert(makeInstance({ id: others[0], workerType: 'other' }));
      // A row EC2 has forgotten is removed as well (EC2 refuses the batch for it; we retry without it).
      const forgotten = makeInstance({
        id: 'i-0fffffffffffffff0',
        state: 'running',
        launched: new Date(Date.now() - 3_600_000),
      });
      await h.get(InstanceRepository).upsert(forgotten);
      const terminateCalls = await calls('TerminateInstances');
      const cancelCalls = await calls('CancelSpotInstanceRequests');

      await api(h).delete(`/v1/worker-types/${WT}/resources`).set(bearer(TOKENS.builder)).expect(204);

      for (const id of east) expect(sandboxInstance('us-east-1', id).state).toMatch(/shutting-down|terminated/);
      for (const id of [...west, ...oldKey])
        expect(sandboxInstance('us-west-2', id).state).toMatch(/shutting-down|terminated/);
      for (const id of requests) expect(sandboxRequest('us-east-1', id).state).toBe('cancelled');
      for (const id of [...others, ...foreign]) expect(sandboxInstance('us-east-1', id).state).toBe('running');
      expect(await h.get(InstanceRepository).list({ workerType: WT })).toEqual([]);
      expect(await h.get(SpotRequestRepository).list({ workerType: WT })).toEqual([]);
      expect((await h.get(InstanceRepository).list()).map((i) => i.id)).toEqual([others[0]]);
      // One call per region (us-east-1 retried once without the forgotten id), not one per id.
      expect((await calls('TerminateInstances')) - terminateCalls).toBe(3);
      expect((await calls('CancelSpotInstanceRequests')) - cancelCalls).toBe(1);
    });

    it('touches no look-alike of the worker type: the key-name filter only narrows, ownership is parsed', async () => {
      const mgr = h.config.managerId;
      const seed = (keyName: string) =>
        h.sandbox.control.seedInstances({ region: 'us-east-1', count: 1, keyName }).instanceIds[0];
      const lookAlikes = [`${mgr}:${WT}:other:team`, `${mgr}:${WT}:`, `${mgr}:${WT}:x:y`, `${mgr}:${WT}::`];
      const foreignInstances = lookAlikes.map(seed);
      const foreignRequests = lookAlikes.map(
        (keyName) =>
          h.sandbox.control.seedSpotRequests({ region: 'us-east-1', count: 1, keyName }).spotInstanceRequestIds[0],
      );
      const [ours] = h.sandbox.control.seedInstances({ region: 'us-east-1', count: 1, keyName }).instanceIds;
      const [ourRequest] = h.sandbox.control.seedSpotRequests({
        region: 'us-east-1',
        count: 1,
        keyName,
      }).spotInstanceRequestIds;

      await api(h).delete(`/v1/worker-types/${WT}/resources`).set(bearer(TOKENS.builder)).expect(204);

      expect(sandboxInstance('us-east-1', ours).state).toBe('shutting-down');
      expect(sandboxRequest('us-east-1', ourRequest).state).toBe('cancelled');
      for (const id of foreignInstances) expect(sandboxInstance('us-east-1', id).state).toBe('running');
      for (const id of foreignRequests) expect(sandboxRequest('us-east-1', id).state).toBe('open');
    });

    it('answers a retryable 503 for a row EC2 does not know yet, keeping it, after doing the rest', async () => {
      const [id] = h.sandbox.control.seedInstances({ region: 'us-east-1', count: 1, keyName }).instanceIds;
      const young = makeInstance({ id: 'i-0eeeeeeeeeeeeeee0', launched: new Date(Date.now() - 10_000) });
      await h.get(InstanceRepository).upsert(young);
      const res = await api(h).delete(`/v1/worker-types/${WT}/resources`).set(bearer(TOKENS.builder)).expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.details).toMatchObject({ reason: 'describe-lag', ids: [`us-east-1/${young.id}`] });
      expect(sandboxInstance('us-east-1', id).state).toBe('shutting-down');
      expect((await h.get(InstanceRepository).list()).map((i) => i.id)).toEqual([young.id]);
    });

    it('ends the instance of a request fulfilled between its listing and its cancellation', async () => {
      const [id] = h.sandbox.control.seedSpotRequests({
        region: 'us-east-1',
        count: 1,
        keyName,
        spotPrice: '5',
        evaluate: true,
      }).spotInstanceRequestIds;
      // EC2 fulfils it the moment before it is cancelled: cancelling then leaves its instance running.
      onCommand(h.get(Ec2Clients).client('us-east-1'), 'CancelSpotInstanceRequestsCommand', () => {
        h.sandbox.control.setClock({ advanceSeconds: 5 });
      });

      await api(h).delete(`/v1/worker-types/${WT}/resources`).set(bearer(TOKENS.builder)).expect(204);

      const instanceId = sandboxRequest('us-east-1', id).instanceId as string;
      expect(instanceId).toMatch(/^i-/);
      expect(sandboxInstance('us-east-1', instanceId).state).toBe('shutting-down');
    });

    it('answers 204 when there is nothing to terminate', async () => {
      await api(h).delete(`/v1/worker-types/nothing/resources`).set(admin).expect(204);
    });
  });

  describe('terminateInstance', () => {
    it('terminates one of ours, answering its states, and removes it from state', async () => {
      const [id] = h.sandbox.control.seedInstances({ region: 'us-west-2', count: 1, keyName }).instanceIds;
      await h.get(InstanceRepository).upsert(makeInstance({ id, region: 'us-west-2', state: 'running' }));
      const res = await api(h).delete(`/v1/region/us-west-2/instance/${id}`).set(admin).expect(200);
      expect(res.body).toEqual({ current: 'shutting-down', previous: 'running' });
      expect(sandboxInstance('us-west-2', id).state).toBe('shutting-down');
      expect(await h.get(InstanceRepository).list()).toEqual([]);
    });

    it('answers 204 for an instance EC2 does not know, and forgets it', async () => {
      const id = 'i-0aaaaaaaaaaaaaaa0';
      await h.get(InstanceRepository).upsert(makeInstance({ id, launched: new Date(Date.now() - 3_600_000) }));
      await api(h).delete(`/v1/region/us-east-1/instance/${id}`).set(admin).expect(204);
      expect(await h.get(InstanceRepository).list()).toEqual([]);
      await api(h).delete(`/v1/region/us-east-1/instance/i-0bbbbbbbbbbbbbbb0`).set(admin).expect(204);
    });

    it('answers a retryable 503 for a row EC2 does not know yet (launched within the describe-lag grace)', async () => {
      const id = 'i-0aaaaaaaaaaaaaaa0';
      await h.get(InstanceRepository).upsert(makeInstance({ id, launched: new Date(Date.now() - 10_000) }));
      const res = await api(h).delete(`/v1/region/us-east-1/instance/${id}`).set(admin).expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.details).toMatchObject({ reason: 'describe-lag', id });
      expect((await h.get(InstanceRepository).list()).map((i) => i.id)).toEqual([id]);
    });

    it('never touches an instance that is not ours', async () => {
      const [id] = h.sandbox.control.seedInstances({
        region: 'us-east-1',
        count: 1,
        keyName: 'my-laptop-key',
      }).instanceIds;
      const res = await api(h).delete(`/v1/region/us-east-1/instance/${id}`).set(admin).expect(404);
      expect(res.body.code).toBe('ResourceNotFound');
      expect(sandboxInstance('us-east-1', id).state).toBe('running');
    });

    it('refuses an unconfigured region with 404 and a malformed id with 400', async () => {
      const res = await api(h).delete('/v1/region/eu-west-1/instance/i-0123456789abcdef0').set(admin).expect(404);
      expect(res.body).toMatchObject({ code: 'ResourceNotFound', message: expect.stringContaining('eu-west-1') });
      const bad = await api(h).delete('/v1/region/us-east-1/instance/not-an-id').set(admin).expect(400);
      expect(bad.body.details.reasons[0]).toMatchObject({ path: 'id' });
    });
  });

  describe('cancelSpotInstanceRequest', () => {
    it('cancels one of ours, answering its state, and removes it from state', async () => {
      const [id] = h.sandbox.control.seedSpotRequests({
        region: 'us-east-1',
        count: 1,
        keyName,
      }).spotInstanceRequestIds;
      await h.get(SpotRequestRepository).upsert(makeSpotRequest({ id }));
      const res = await api(h).delete(`/v1/region/us-east-1/spot-instance-request/${id}`).set(admin).expect(200);
      expect(res.body).toEqual({ current: 'cancelled' });
      expect(sandboxRequest('us-east-1', id).state).toBe('cancelled');
      expect(await h.get(SpotRequestRepository).list()).toEqual([]);
    });

    it('answers 204 for a request EC2 does not know, and forgets it', async () => {
      await h
        .get(SpotRequestRepository)
        .upsert(makeSpotRequest({ id: 'sir-zzzzzzzz', created: new Date(Date.now() - 3_600_000) }));
      await api(h).delete('/v1/region/us-east-1/spot-instance-request/sir-zzzzzzzz').set(admin).expect(204);
      expect(await h.get(SpotRequestRepository).list()).toEqual([]);
    });

    it('never touches a request that is not ours, nor one in an unconfigured region', async () => {
      const [id] = h.sandbox.control.seedSpotRequests({
        region: 'us-east-1',
        count: 1,
        keyName: 'foreign',
      }).spotInstanceRequestIds;
      await api(h).delete(`/v1/region/us-east-1/spot-instance-request/${id}`).set(admin).expect(404);
      expect(sandboxRequest('us-east-1', id).state).toBe('open');
      await api(h).delete(`/v1/region/ap-south-1/spot-instance-request/${id}`).set(admin).expect(404);
    });
  });

  describe('under describe lag (issue #10 defect 2): no 204 or 200 without the effect in EC2', () => {
    const LAG = { describeInstancesLagSeconds: 600, describeSpotRequestsLagSeconds: 600 };
    afterEach(() => h.sandbox.control.clearFaults());

    it('terminates what state knows as ours, answers 503 for what only EC2 knows, never touches the foreign', async () => {
      h.sandbox.control.setFaults(LAG);
      const ids = h.sandbox.control.seedInstances({ region: 'us-east-1', count: 6, keyName }).instanceIds;
      const [foreign] = h.sandbox.control.seedInstances({
        region: 'us-east-1',
        count: 1,
        keyName: 'their-key',
      }).instanceIds;
      const inState = ids.slice(0, 3);
      await h.get(InstanceRepository).upsertMany(inState.map((id) => makeInstance({ id, state: 'running' })));

      const answers = new Map<string, number>();
      for (const id of [...ids, foreign]) {
        const res = await api(h).delete(`/v1/region/us-east-1/instance/${id}`).set(admin);
        answers.set(id, res.status);
        if (res.status === 503) expect(res.headers['retry-after']).toBeDefined();
      }

      for (const [id, status] of answers) {
        const state = sandboxInstance('us-east-1', id).state;
        if (status === 200 || status === 204) expect({ id, state }).toEqual({ id, state: 'shutting-down' });
        else expect({ id, status, state }).toEqual({ id, status: 503, state: 'running' });
      }
      expect(inState.map((id) => answers.get(id))).toEqual([200, 200, 200]);
      expect(ids.slice(3).map((id) => answers.get(id))).toEqual([503, 503, 503]);
      expect((await h.get(InstanceRepository).list()).map((i) => i.id)).toEqual([]);

      // Once describe lists them, the retries terminate them; the foreign one is refused.
      h.sandbox.control.clearFaults();
      for (const id of ids.slice(3)) await api(h).delete(`/v1/region/us-east-1/instance/${id}`).set(admin).expect(200);
      await api(h).delete(`/v1/region/us-east-1/instance/${foreign}`).set(admin).expect(404);
      for (const id of ids) expect(sandboxInstance('us-east-1', id).state).toBe('shutting-down');
      expect(sandboxInstance('us-east-1', foreign).state).toBe('running');
    });

    it('terminateWorkerType ends the instance of a fulfilled request that describe does not list yet', async () => {
      await h.get(Ec2Gateway).ensureKeyPair('us-east-1', WT);
      h.sandbox.control.setFaults({ describeInstancesLagSeconds: 600 });
      const [launched] = await h.get(Ec2Gateway).runInstances('us-east-1', {
        workerType: WT,
        clientToken: 'lagging-spot-launch',
        spec: { ImageId: 'ami-0123456789abcdef0', InstanceType: 'm5.large', KeyName: keyName },
        spot: {},
      });
      expect(launched.spotRequestId).toMatch(/^sir-/);
      expect((await h.get(Ec2Gateway).instancesOfWorkerType('us-east-1', WT)).map((i) => i.id)).toEqual([]);

      await api(h).delete(`/v1/worker-types/${WT}/resources`).set(bearer(TOKENS.builder)).expect(204);

      expect(sandboxInstance('us-east-1', launched.id).state).toBe('shutting-down');
    });

    it('cancels what state knows as ours and answers 503 for what only EC2 knows', async () => {
      h.sandbox.control.setFaults(LAG);
      const ids = h.sandbox.control.seedSpotRequests({ region: 'us-east-1', count: 4, keyName }).spotInstanceRequestIds;
      await h.get(SpotRequestRepository).upsert(makeSpotRequest({ id: ids[0] }));
      await h.get(SpotRequestRepository).upsert(makeSpotRequest({ id: ids[1] }));

      const answers: number[] = [];
      for (const id of ids) {
        const res = await api(h).delete(`/v1/region/us-east-1/spot-instance-request/${id}`).set(admin);
        answers.push(res.status);
        const state = sandboxRequest('us-east-1', id).state;
        if (res.status === 200 || res.status === 204) expect({ id, state }).toEqual({ id, state: 'cancelled' });
        else expect({ id, state }).toEqual({ id, state: 'open' });
      }
      expect(answers).toEqual([200, 200, 503, 503]);

      h.sandbox.control.clearFaults();
      for (const id of ids.slice(2)) {
        await api(h).delete(`/v1/region/us-east-1/spot-instance-request/${id}`).set(admin).expect(200);
      }
      for (const id of ids) expect(sandboxRequest('us-east-1', id).state).toBe('cancelled');
    });
  });
});

/** Runs `fn` once, just before the client next sends `command`. */
function onCommand(client: EC2Client, command: string, fn: () => void): void {
  let done = false;
  const stack = client.middlewareStack as unknown as {
    add(middleware: InitializeMiddleware<object, object>, options: InitializeHandlerOptions): void;
  };
  stack.add(
    (next, context) => (args) => {
      if (!done && context.commandName === command) {
        done = true;
        fn();
      }
      return next(args);
    },
    { step: 'initialize', name: `testOn${command}`, override: true },
  );
}
