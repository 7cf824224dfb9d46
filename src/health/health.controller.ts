import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
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
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.db.pingCheck('database', { timeout: 3000 }), () => this.migrationsCheck()]);
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
