import { Injectable } from '@nestjs/common';
import { ResourceNotFoundError, ServiceUnavailableError } from '../common/errors';
import { JOB_NAMES, JobName } from '../config/app-config';
import { JobScheduler } from '../jobs/job-scheduler.service';
import { JobPassDto } from './dto/internal.dto';

/** Retry-After when a pass is already going: most passes take seconds. */
const RETRY_AFTER_SECONDS = 5;

/** The periodic jobs, for operators who want one pass now (runJob). */
@Injectable()
export class JobsService {
  constructor(private readonly scheduler: JobScheduler) {}

  /**
   * One pass of the job on this replica, under the job's leader lock like a scheduled one, whether or
   * not the job is scheduled here and however recently it ran. A pass already going (here or on another
   * replica) is not waited for: 503 with Retry-After.
   */
  async runNow(name: string): Promise<JobPassDto> {
    if (!(JOB_NAMES as readonly string[]).includes(name)) {
      throw new ResourceNotFoundError(`there is no job named ${name}`, { jobs: JOB_NAMES });
    }
    const pass = await this.scheduler.runner(name as JobName).runNow();
    switch (pass.result) {
      case 'ran':
      case 'failed':
      case 'aborted':
        return {
          job: name,
          result: pass.result,
          started: pass.started!,
          durationMs: pass.ms!,
          outcome: pass.summary ?? null,
          error: pass.error ?? null,
        };
      case 'busy':
      case 'not-leader':
      case 'recent':
        throw new ServiceUnavailableError(
          `a pass of ${name} is running now ${pass.result === 'busy' ? 'on this replica' : 'on another replica'}; ask again when it ends`,
          { job: name },
          RETRY_AFTER_SECONDS,
        );
      case 'stopped':
        throw new ServiceUnavailableError('this replica is shutting down', { job: name }, RETRY_AFTER_SECONDS);
    }
  }
}
