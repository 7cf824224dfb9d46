import { parser } from '@prometheus-io/lezer-promql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppHarness } from '../app-harness';
import { api, createApiHarness } from '../api/support';
import { Doc, KUBERNETES_DIR, parseYaml, ROOT } from './manifests';

const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'ec2-manager-fleet.json');
const RULES = join(KUBERNETES_DIR, 'monitoring', 'prometheus-rule.yaml');

/** The metric names a PromQL expression selects, or the positions where it does not parse. */
function promql(expr: string): { metrics: string[]; errors: number[] } {
  const metrics: string[] = [];
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'VectorSelector') {
        const name = node.node.getChild('Identifier');
        if (name) metrics.push(expr.slice(name.from, name.to));
      }
    },
  });
  return { metrics, errors };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Doc;
const dashboardExprs: string[] = [
  ...(dashboard.panels as Doc[]).flatMap((p) => ((p.targets ?? []) as Doc[]).map((t) => String(t.expr))),
  // label_values(<metric>, <label>) of the template variables: the metric must exist too.
  ...(dashboard.templating.list as Doc[])
    .filter((v) => v.type === 'query')
    .map((v) => String(/^label_values\((.+),\s*\w+\)$/.exec(String(v.definition))?.[1])),
];
const [rule] = parseYaml(readFileSync(RULES, 'utf8'), 'prometheus-rule.yaml');
const alerts = (rule.spec.groups as Doc[]).flatMap((g) => g.rules as Doc[]);

/** SPEC §12: the Grafana dashboard and the alert rules use only what the service exposes, and parse. */
describe('dashboard and alert rules', () => {
  let h: AppHarness;
  let exposed: Set<string>;

  beforeAll(async () => {
    h = await createApiHarness({ env: { EVENT_LISTENER_ENABLED: true } });
    const text = (await api(h).get('/metrics').expect(200)).text;
    exposed = new Set();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exposed.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(`${name}${s}`);
      if (type === 'summary') for (const s of ['_sum', '_count']) exposed.add(`${name}${s}`);
    }
  });
  afterAll(() => h.close());

  it('every dashboard expression parses as PromQL and selects only metrics the service exposes', () => {
    expect(dashboardExprs.length).toBeGreaterThan(15);
    const broken = dashboardExprs.filter((e) => promql(e).errors.length > 0 || promql(e).metrics.length === 0);
    expect(broken).toEqual([]);
    const missing = dashboardExprs.flatMap((e) => promql(e).metrics.filter((m) => !exposed.has(m)));
    expect([...new Set(missing)]).toEqual([]);
  });

  it('every alert parses as PromQL, selects only exposed metrics, and says how bad and what happened', () => {
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        'EC2ManagerDeadLetters',
        'EC2ManagerJobNotSucceeding',
        'EC2ManagerNotReady',
        'EC2ManagerEc2Throttled',
        'EC2ManagerLaunchesFailing',
      ]),
    );
    expect(alerts.filter((a) => promql(String(a.expr)).errors.length > 0).map((a) => a.alert)).toEqual([]);
    const missing = alerts.flatMap((a) => promql(String(a.expr)).metrics.filter((m) => !exposed.has(m)));
    expect([...new Set(missing)]).toEqual([]);
    for (const a of alerts) {
      expect(['info', 'warning', 'critical']).toContain(a.labels?.severity);
      expect(typeof a.annotations?.summary).toBe('string');
    }
  });

  it('the PromQL check fails a broken expression and finds every selected metric', () => {
    expect(promql('sum(rate(x_total[5m])').errors.length).toBeGreaterThan(0);
    expect(promql('a > 2 * on(job) b{job="x"} unless c').metrics).toEqual(['a', 'b', 'c']);
  });

  it('the dashboard is a Grafana dashboard: unique panel ids, a worker type variable used by its panels', () => {
    const ids = (dashboard.panels as Doc[]).map((p) => p.id as number);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.uid).toBe('ec2-manager-fleet');
    expect((dashboard.templating.list as Doc[]).map((v) => v.name)).toEqual(['datasource', 'worker_type']);
    expect(dashboardExprs.filter((e) => e.includes('$worker_type')).length).toBeGreaterThanOrEqual(4);
  });
});
