/**
 * Soaks of the fault suite: `npm run test:faults -- --seeds 20` runs 20 random schedules of the
 * soak profile, then the five-minute Postgres outage; `--seed N [--profile test|soak|outage]` replays one.
 * Prints every seed, every violation, and a summary; exits 1 when any invariant failed.
 */
import { newSeed } from './harness/random';
import { ALL_FAULTS, formatReport, PROFILES, runScenario, ScenarioReport } from './harness/scenario';
import { FaultKind } from './harness/schedule';

interface Args {
  seeds: number[];
  profile: string;
  outage: boolean;
  kinds?: FaultKind[];
  keepLogs?: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: [], profile: 'soak', outage: true };
  let count: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--seeds':
        count = Number(value());
        break;
      case '--seed':
        args.seeds.push(Number(value()));
        args.outage = false;
        break;
      case '--profile':
        args.profile = value();
        break;
      case '--kinds':
        args.kinds = value().split(',') as FaultKind[];
        break;
      case '--no-outage':
        args.outage = false;
        break;
      case '--keep-logs':
        args.keepLogs = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!PROFILES[args.profile]) throw new Error(`--profile must be one of ${Object.keys(PROFILES).join(', ')}`);
  for (const k of args.kinds ?? []) if (!ALL_FAULTS.includes(k)) throw new Error(`unknown fault kind ${k}`);
  if (args.seeds.some((s) => !Number.isInteger(s))) throw new Error('--seed must be an integer');
  if (count !== undefined) {
    if (!(Number.isInteger(count) && count > 0)) throw new Error('--seeds must be a positive integer');
    for (let n = 0; n < count; n++) args.seeds.push(newSeed());
  }
  if (args.seeds.length === 0 && args.profile !== 'outage') args.seeds.push(newSeed());
  if (args.profile === 'outage') args.outage = false;
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runs: { seed: number; profile: string }[] = args.seeds.map((seed) => ({ seed, profile: args.profile }));
  if (args.profile === 'outage' && runs.length === 0) runs.push({ seed: newSeed(), profile: 'outage' });
  if (args.outage) runs.push({ seed: newSeed(), profile: 'outage' });
  console.log(`fault suite: ${runs.map((r) => `${r.profile}:${r.seed}`).join(' ')}`);
  const reports: ScenarioReport[] = [];
  const began = Date.now();
  // Stopped before the end (Ctrl-C, a deadline): the runs that finished still give their figures. The
  // replicas and the Postgres of the run under way stop by themselves when this process exits.
  const interrupted = (signal: NodeJS.Signals): void => {
    console.log(`\nfault suite: ${signal} during run ${reports.length + 1} of ${runs.length}`);
    summarise(reports, runs, args, began);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  for (const run of runs) {
    const stamp = () => new Date().toISOString().slice(11, 19);
    const report = await runScenario({
      seed: run.seed,
      profile: PROFILES[run.profile],
      kinds: args.kinds,
      keepLogs: args.keepLogs,
      progress: (line) => console.log(`[${stamp()}] ${line}`),
    });
    console.log(formatReport(report));
    reports.push(report);
  }
  process.exitCode = summarise(reports, runs, args, began) ? 1 : 0;
}

/** Prints the summary of the runs done; true when any invariant failed. */
function summarise(reports: ScenarioReport[], runs: { profile: string }[], args: Args, began: number): boolean {
  const failed = reports.filter((r) => r.violations.length > 0);
  const kinds = new Set(
    runs.flatMap((r) => PROFILES[r.profile].fixed?.map((f) => f.fault.kind) ?? args.kinds ?? ALL_FAULTS),
  );
  console.log(
    `\nfault suite summary: ${reports.length} run(s), ${failed.length} failed, ${((Date.now() - began) / 60000).toFixed(1)} min, ` +
      `kinds ${[...kinds].join(',')}`,
  );
  // Per invariant: in how many runs it failed, and how many violations in all (the figures test/faults/README.md keeps).
  const byInvariant = new Map<string, { runs: number; violations: number }>();
  for (const r of reports) {
    const counts = new Map<string, number>();
    for (const v of r.violations) counts.set(v.invariant, (counts.get(v.invariant) ?? 0) + 1);
    for (const [invariant, n] of counts) {
      const sum = byInvariant.get(invariant) ?? { runs: 0, violations: 0 };
      byInvariant.set(invariant, { runs: sum.runs + 1, violations: sum.violations + n });
    }
  }
  for (const [invariant, sum] of byInvariant) {
    console.log(`  violated in ${sum.runs} run(s), ${sum.violations} time(s): ${invariant}`);
  }
  for (const r of reports) {
    const violated = [...new Set(r.violations.map((v) => v.invariant))];
    console.log(
      `  ${r.profile} seed ${r.seed}: ${(r.figures.durationMs / 1000).toFixed(0)} s, ${r.figures.apiCalls} calls, ` +
        `converged in ${(r.figures.convergeMs / 1000).toFixed(1)} s` +
        (violated.length ? `, FAILED: ${violated.join('; ')}` : ', ok'),
    );
  }
  return failed.length > 0;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(2);
});
