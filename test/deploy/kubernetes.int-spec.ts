import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { validateEnv } from '../../src/config/env';
import {
  Doc,
  findOne,
  KUBERNETES_DIR,
  KUSTOMIZATION,
  Manifest,
  parseYaml,
  readManifests,
  ROOT,
  schemaErrors,
  yamlFiles,
} from './manifests';

const manifests = readManifests();
const deployment = findOne(manifests, 'Deployment', 'ec2-manager');
const configMap = findOne(manifests, 'ConfigMap', 'ec2-manager');
const secret = findOne(manifests, 'Secret', 'ec2-manager');
const jobs = manifests.filter((m) => m.body.kind === 'Job').map((m) => m.body);
/** Every pod the deployment runs: the service's and the Jobs'. */
const podSpecs: [string, Doc][] = [
  ['Deployment', deployment.spec.template.spec],
  ...jobs.map((j): [string, Doc] => [`Job ${j.metadata.name}`, j.spec.template.spec]),
];

/** The file's placeholder marker: a value still carrying it was never filled in. */
const PLACEHOLDER = 'REPLACE_ME';
/** Values an operator would put in place of the placeholders. */
const FILLED: Record<string, string> = {
  INSTANCE_PUBKEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB5ZbKPyVMmfRRlHAr7UFOmW4cMXr5dWsJbVhTz3lAUT ops@example',
  DATABASE_URL: 'postgres://ec2_manager:secret@db.internal:5432/ec2_manager?sslmode=require',
  API_CLIENTS: JSON.stringify([{ clientId: 'provisioner', tokenSha256: 'a'.repeat(64), scopes: ['ec2-manager:*'] }]),
  SENTRY_DSN: 'https://public@sentry.example.com/1',
};

function container(podSpec: Doc): Doc {
  expect(podSpec.containers).toHaveLength(1);
  return podSpec.containers[0];
}

describe('deploy/kubernetes', () => {
  describe('schema validation (kubernetes-models)', () => {
    it('finds the manifests: every kind the deployment needs', () => {
      const kinds = manifests.map((m) => `${m.body.apiVersion} ${m.body.kind}`).sort();
      expect(kinds).toEqual([
        'apps/v1 Deployment',
        'batch/v1 Job',
        'batch/v1 Job',
        'monitoring.coreos.com/v1 PrometheusRule',
        'policy/v1 PodDisruptionBudget',
        'v1 ConfigMap',
        'v1 Secret',
        'v1 Service',
        'v1 ServiceAccount',
      ]);
    });

    it.each(manifests.map((m): [string, Manifest] => [`${m.file}#${m.index} ${m.body.kind}`, m]))(
      '%s is valid against the Kubernetes schema',
      (_name, m) => {
        expect(schemaErrors(m.body)).toEqual([]);
      },
    );

    it('rejects a Deployment whose replicas is not an integer', () => {
      const broken = structuredClone(deployment);
      broken.spec.replicas = 'two';
      expect(schemaErrors(broken).join('\n')).toMatch(/replicas must be integer/);
    });

    it('rejects a Deployment without a pod template, and a container without an image name', () => {
      const noTemplate = structuredClone(deployment);
      delete noTemplate.spec.template;
      expect(schemaErrors(noTemplate).join('\n')).toMatch(/template/);
      const unnamed = structuredClone(deployment);
      delete unnamed.spec.template.spec.containers[0].name;
      expect(schemaErrors(unnamed).join('\n')).toMatch(/name/);
    });

    it('rejects a ConfigMap value that YAML reads as a number or a boolean (as kubectl would)', () => {
      const [body] = parseYaml(
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  RUN_MIGRATIONS: yes\n',
        'x',
      );
      expect(body.data.RUN_MIGRATIONS).toBe(true);
      expect(schemaErrors(body).join('\n')).toMatch(/RUN_MIGRATIONS must be string/);
      const [port] = parseYaml('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  PORT: 5555\n', 'x');
      expect(schemaErrors(port).join('\n')).toMatch(/PORT must be string/);
    });

    it('rejects a kind it has no schema for, a bad apiVersion and an object without a name', () => {
      expect(schemaErrors({ apiVersion: 'v1', kind: 'Pdo', metadata: { name: 'x' } })).toEqual([
        'no schema for apiVersion v1 kind Pdo',
      ]);
      expect(schemaErrors({ ...deployment, apiVersion: 'extensions/v1beta1' })[0]).toMatch(/no schema/);
      expect(schemaErrors({ ...configMap, metadata: {} })).toContain('metadata.name is missing');
    });

    it('rejects malformed YAML and duplicate keys', () => {
      expect(() => parseYaml('a: [1, 2\n', 'x.yaml')).toThrow(/x\.yaml/);
      expect(() => parseYaml('a: 1\na: 2\n', 'x.yaml')).toThrow(/unique/i);
    });
  });

  describe('kustomization', () => {
    const kustomizations = yamlFiles().filter((f) => f.endsWith(KUSTOMIZATION));
    const read = (file: string) => parseYaml(readFileSync(join(KUBERNETES_DIR, file), 'utf8'), file)[0];

    it('lists every manifest exactly once, and only files that exist', () => {
      const listed = kustomizations.flatMap((k) => {
        const body = read(k);
        expect(body.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
        expect(body.kind).toBe('Kustomization');
        return (body.resources as string[]).map((r) => join(dirname(k), r));
      });
      for (const file of listed) expect(existsSync(join(KUBERNETES_DIR, file))).toBe(true);
      expect([...listed].sort()).toEqual(yamlFiles().filter((f) => !f.endsWith(KUSTOMIZATION)));
    });

    it('sets the image of every container, the same in each kustomization that runs containers', () => {
      // The monitoring kustomization (a PrometheusRule) runs no container: it needs no image.
      const running = kustomizations.filter((k) =>
        (read(k).resources as string[]).some((r) =>
          manifests.some((m) => m.file === join(dirname(k), r) && ['Deployment', 'Job'].includes(m.body.kind)),
        ),
      );
      expect(running.length).toBeGreaterThanOrEqual(2);
      const images = running.map((k) => read(k).images as { name: string; newName: string; newTag: string }[]);
      for (const list of images) expect(list).toEqual(images[0]);
      const names = images[0].map((i) => i.name);
      for (const [, podSpec] of podSpecs) expect(names).toContain(container(podSpec).image);
    });
  });

  describe('the Deployment', () => {
    const podSpec = deployment.spec.template.spec;
    const c = container(podSpec);
    const port = (name: string) => c.ports.find((p: { name: string }) => p.name === name)?.containerPort;

    it('runs 2 replicas, one new pod at a time, all selected by its own selector', () => {
      expect(deployment.spec.replicas).toBe(2);
      expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    });

    it('probes liveness on /health/live, readiness on /health/ready, and gives migrations time to start', () => {
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(c.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      // The server listens only once migrations are applied: allow minutes, not the default 30 s.
      expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(180);
      expect(port('http')).toBe(5555);
      expect(configMap.data.PORT).toBe(String(port('http')));
    });

    it('asks for resources and caps memory', () => {
      expect(c.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(c.resources.limits.memory).toEqual(expect.any(String));
    });

    it('is scraped by Prometheus at /metrics on the container port', () => {
      expect(deployment.spec.template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/path': '/metrics',
        'prometheus.io/port': String(port('http')),
      });
    });

    it('runs the image default command (node dist/main.js) with the ConfigMap and the Secret as environment', () => {
      expect(c.command).toBeUndefined();
      expect(c.args).toBeUndefined();
    });
  });

  describe('every pod (Deployment and Jobs)', () => {
    it.each(podSpecs)(
      '%s runs as uid 1000, non-root, read-only root, no privilege escalation, no capabilities',
      (_n, spec) => {
        const c = container(spec);
        expect(spec.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 1000,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.securityContext.privileged).toBeUndefined();
        expect(c.securityContext.capabilities.add).toBeUndefined();
        // uid 1000 must be the image's own unprivileged user.
        expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toMatch(
          /^FROM node:\d+-bookworm-slim AS runtime$[\s\S]*^USER node$/m,
        );
      },
    );

    it.each(podSpecs)('%s has a writable /tmp on an emptyDir and nothing else writable', (_n, spec) => {
      const c = container(spec);
      expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      const tmp = spec.volumes.find((v: { name: string }) => v.name === 'tmp');
      expect(tmp.emptyDir).toBeDefined();
    });

    it.each(podSpecs)('%s asks for cpu and memory and caps memory', (_n, spec) => {
      const c = container(spec);
      expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(c.resources.limits.memory).toBeDefined();
    });

    it.each(podSpecs)(
      '%s takes its environment from the ConfigMap and the Secret, as the service account',
      (_n, spec) => {
        const c = container(spec);
        expect(c.envFrom).toEqual([
          { configMapRef: { name: configMap.metadata.name } },
          { secretRef: { name: secret.metadata.name } },
        ]);
        expect(spec.serviceAccountName).toBe(findOne(manifests, 'ServiceAccount').metadata.name);
      },
    );
  });

  describe('the Jobs', () => {
    it.each([
      ['setup', 'src/cli/setup.ts'],
      ['migrate', 'src/cli/migrate.ts'],
    ])('the %s Job runs its CLI (%s) as built into dist/cli', (name, source) => {
      const job = findOne(manifests, 'Job', `ec2-manager-${name}`);
      const spec = job.spec.template.spec;
      expect(container(spec).command).toEqual(['node', `dist/cli/${name}.js`]);
      expect(spec.restartPolicy).toBe('Never');
      expect(existsSync(join(ROOT, source))).toBe(true);
    });

    it('are not selected by the Service or the PodDisruptionBudget', () => {
      const service = findOne(manifests, 'Service');
      const pdb = findOne(manifests, 'PodDisruptionBudget');
      const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
        Object.entries(selector).every(([k, v]) => labels[k] === v);
      expect(selects(service.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
      expect(selects(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
      for (const job of jobs) {
        expect(selects(service.spec.selector, job.spec.template.metadata.labels)).toBe(false);
        expect(selects(pdb.spec.selector.matchLabels, job.spec.template.metadata.labels)).toBe(false);
      }
    });
  });

  describe('Service, PodDisruptionBudget, ServiceAccount', () => {
    it('the Service sends port 80 (named http) to the container port http', () => {
      expect(findOne(manifests, 'Service').spec.ports).toEqual([
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      ]);
    });

    it('the PodDisruptionBudget keeps at least one replica', () => {
      expect(findOne(manifests, 'PodDisruptionBudget').spec.minAvailable).toBe(1);
    });

    it('the ServiceAccount carries the IRSA role annotation, as a placeholder', () => {
      const sa = findOne(manifests, 'ServiceAccount');
      expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toMatch(
        /^arn:aws:iam::REPLACE_ME\w*:role\/REPLACE_ME/,
      );
    });
  });

  describe('ConfigMap and Secret', () => {
    const settings = () => ({ ...configMap.data, ...secret.stringData }) as Record<string, string>;
    const filled = () =>
      Object.fromEntries(Object.entries(settings()).map(([k, v]) => [k, v.includes(PLACEHOLDER) ? FILLED[k] : v]));

    it('the Secret is a template: exactly DATABASE_URL, API_CLIENTS, SENTRY_DSN, every value a placeholder', () => {
      expect(secret.data).toBeUndefined();
      expect(Object.keys(secret.stringData).sort()).toEqual(['API_CLIENTS', 'DATABASE_URL', 'SENTRY_DSN']);
      for (const value of Object.values(secret.stringData)) expect(value).toBe(PLACEHOLDER);
    });

    it('the ConfigMap holds no secret setting', () => {
      for (const key of Object.keys(secret.stringData)) expect(configMap.data).not.toHaveProperty(key);
    });

    it('the ConfigMap runs the service against AWS in production, with JSON logs', () => {
      expect(configMap.data).toMatchObject({ AWS_MODE: 'aws', NODE_ENV: 'production', LOG_FORMAT: 'json' });
    });

    it('once the placeholders are filled in, every key is a setting of the service and every value is valid', () => {
      const env = validateEnv(filled());
      // validateEnv drops what it does not know: a misspelled key would vanish here.
      for (const key of Object.keys(settings())) expect(env).toHaveProperty(key);
      expect(env.AWS_MODE).toBe('aws');
      expect(env.REGIONS.length).toBeGreaterThan(0);
    });

    it('left as placeholders, the service refuses to start and names each one', () => {
      const placeholders = Object.keys(settings()).filter((k) => settings()[k].includes(PLACEHOLDER));
      expect(placeholders.sort()).toEqual(Object.keys(FILLED).sort());
      for (const key of placeholders) expect(() => validateEnv(settings())).toThrow(new RegExp(`${key}: `));
    });
  });
});
