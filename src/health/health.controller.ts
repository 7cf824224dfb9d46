import { Controller, Get, Optional } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { QueueHealth } from '../event-listener/queue-health.service';
import { DatabaseStatusService } from '../state/database-status.service';

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
    @Optional() private readonly queues?: QueueHealth,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    const checks: HealthIndicatorFunction[] = [
      () => this.db.pingCheck('database', { timeout: 3000 }),
      () => this.migrationsCheck(),
    ];
    const queues = this.queues;
    if (queues) checks.push(() => this.queuesCheck(queues));
    return this.health.check(checks);
  }

  private async queuesCheck(queues: QueueHealth) {
    const check = this.indicators.check('queues');
    const problems = await queues.problems();
    return problems.length ? check.down({ message: problems.join('; ') }) : check.up();
  }

  private async migrationsCheck() {
    const check = this.indicators.check('migrations');
    try {
      return (await this.status.pendingMigrations()) ? check.down({ message: 'migrations are pending' }) : check.up();
    } catch (err) {
      return check.down({ message: `cannot read the migrations table: ${(err as Error).message}` });
    }
  }
}
