import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const KUBERNETES_DIR = join(ROOT, 'deploy', 'kubernetes');

/**
 * A parsed YAML document. Manifests are free-form until validated: the schema validator checks them,
 * and the tests read nested fields without restating the Kubernetes types.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Doc = Record<string, any>;

/** A YAML document of deploy/kubernetes, as kubectl would read it. */
export interface Manifest {
  file: string;
  /** Position of the document in its file (several may be separated by `---`). */
  index: number;
  body: Doc;
}

interface Validating {
  validate(): void;
}

/**
 * The schema of every kind the deployment may use, from kubernetes-models (generated from the
 * Kubernetes OpenAPI definitions). A kind missing here is an error, never silently skipped.
 */
const MODELS: Record<string, new (data: Doc) => Validating> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/ServiceAccount': ServiceAccount,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'batch/v1/Job': Job,
  // Its constructor's type insists on `spec`; the validator reports a missing one like any other error.
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule as unknown as new (data: Doc) => Validating,
};

export const KUSTOMIZATION = 'kustomization.yaml';

/** Every YAML file under `dir`, relative to it, sorted. */
export function yamlFiles(dir: string = KUBERNETES_DIR): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f) && statSync(join(dir, f)).isFile())
    .sort();
}

/**
 * Parses YAML the way kubectl does: YAML 1.1 (where an unquoted `yes` or `on` is a boolean, not a
 * string), every document of a file, and any syntax error or duplicate key is a failure.
 */
export function parseYaml(text: string, file: string): Doc[] {
  const docs = parseAllDocuments(text, { version: '1.1', uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) return [];
  return docs
    .map((doc, i) => {
      const problems = [...doc.errors, ...doc.warnings];
      if (problems.length) throw new Error(`${file} document ${i}: ${problems.map((p) => p.message).join('; ')}`);
      return doc.toJS() as unknown;
    })
    .filter((body): body is Doc => body !== null && body !== undefined)
    .map((body) => {
      if (typeof body !== 'object' || Array.isArray(body)) throw new Error(`${file}: a document is not a mapping`);
      return body;
    });
}

export function readManifests(dir: string = KUBERNETES_DIR): Manifest[] {
  return yamlFiles(dir)
    .filter((file) => !file.endsWith(KUSTOMIZATION))
    .flatMap((file) =>
      parseYaml(readFileSync(join(dir, file), 'utf8'), file).map((body, index) => ({ file, index, body })),
    );
}

/**
 * The schema errors of one Kubernetes object (empty: valid). Besides the kind's schema, what the API
 * server also insists on: a known apiVersion/kind and a name.
 */
export function schemaErrors(body: Doc): string[] {
  const key = `${String(body.apiVersion)}/${String(body.kind)}`;
  const Model = MODELS[key];
  if (!Model) return [`no schema for apiVersion ${String(body.apiVersion)} kind ${String(body.kind)}`];
  const errors: string[] = [];
  if (typeof body.metadata?.name !== 'string' || body.metadata.name === '') errors.push('metadata.name is missing');
  try {
    new Model(body).validate();
  } catch (err) {
    errors.push((err as Error).message);
  }
  return errors;
}

export function findOne(manifests: Manifest[], kind: string, name?: string): Doc {
  const found = manifests.filter((m) => m.body.kind === kind && (name === undefined || m.body.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0].body;
}
