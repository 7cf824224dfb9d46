import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { withTimeout } from '../common/timeout';
import { QUEUE_READINESS, ReadinessCheck } from '../common/readiness';
import { DatabaseStatusService } from '../state/database-status.service';

/** Each readiness check gives up after this; they run in parallel, so the probe answers within 3 s (SPEC §9). */
const CHECK_TIMEOUT_MS = 2000;

/** Kubernetes probes (SPEC §9). Liveness never touches Postgres; readiness does. */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly status: DatabaseStatusService,
    /** Present when this replica consumes events (EVENT_LISTENER_ENABLED with a cloud to consume from). */
    @Optional() @Inject(QUEUE_READINESS) private readonly queues?: ReadinessCheck,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    const checks: HealthIndicatorFunction[] = [() => this.databaseCheck(), () => this.migrationsCheck()];
    const queues = this.queues;
    if (queues) checks.push(() => this.queuesCheck(queues));
    return this.health.check(checks);
  }

  /** Down at once while the status probe finds the database unreachable; otherwise a bounded ping. */
  private databaseCheck() {
    if (!this.status.available) {
      return this.indicators.check('database').down({ message: 'the database does not answer (status probe)' });
    }
    return this.db.pingCheck('database', { timeout: CHECK_TIMEOUT_MS });
  }

  private async queuesCheck(queues: ReadinessCheck) {
    const check = this.indicators.check('queues');
    const problems = await queues.problems();
    return problems.length ? check.down({ message: problems.join('; ') }) : check.up();
  }

  private async migrationsCheck() {
    const check = this.indicators.check('migrations');
    try {
      return (await withTimeout(this.status.pendingMigrations(), CHECK_TIMEOUT_MS))
        ? check.down({ message: 'migrations are pending' })
        : check.up();
    } catch (err) {
      return check.down({ message: `cannot read the migrations table: ${(err as Error).message}` });
    }
  }
}
