import { newSeed } from './harness/random';
import { ALL_FAULTS, formatReport, PROFILES, runScenario } from './harness/scenario';

/**
 * The fault-convergence suite at `npm test` size (test/faults/README.md): the service as two child
 * processes on a Postgres of their own, a fleet driven through the API, a random schedule of faults
 * from a printed seed, then the invariants against the sandbox's truth. Replay a failure with
 * `FAULTS_SEED=<seed> npx jest test/faults` or `npm run test:faults -- --profile test --seed <seed>`.
 */
const seed = process.env.FAULTS_SEED ? Number(process.env.FAULTS_SEED) : newSeed();

describe('fault convergence (issue #10)', () => {
  it(`keeps every invariant under a random schedule of ${ALL_FAULTS.join(', ')} (seed ${seed})`, async () => {
    const report = await runScenario({ seed, profile: PROFILES.test });
    const text = formatReport(report);
    console.log(text);
    if (report.violations.length > 0) throw new Error(text);
  }, 600_000);
});
