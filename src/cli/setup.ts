import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { AwsClients } from '../aws/aws-clients.service';
import { Metrics } from '../metrics/metrics.service';
import { loadConfig } from '../config/app-config';
import { InvalidConfigError } from '../config/env';
import { createBootLogger, nestLoggerOver } from '../logging/logging';
import { SetupItem, SetupService } from '../setup/setup.service';

function line(action: string, item: SetupItem): string {
  return `${action.padEnd(9)} ${item.region} ${item.kind} ${item.name}${item.detail ? ` (${item.detail})` : ''}`;
}

/**
 * `npm run setup`: creates, idempotently, the queues, rules and queue policy of every region, and
 * prints what it created, updated and left alone.
 */
async function main(): Promise<number> {
  const config = loadConfig();
  if (config.inProcessSandbox) {
    // A sandbox started here would vanish with this process, and with it everything set up in it.
    console.error(
      'ec2-manager setup: in sandbox mode the service sets itself up at start. To set up a sandbox run alone ' +
        '(`npm run sandbox`), give its EC2_ENDPOINT, SQS_ENDPOINT and EVENTS_ENDPOINT; for AWS, set AWS_MODE=aws.',
    );
    return 2;
  }
  Logger.overrideLogger(nestLoggerOver(createBootLogger(config)));
  const aws = new AwsClients(config, new Metrics());
  try {
    const report = await new SetupService(config, aws).run();
    for (const item of report.created) process.stdout.write(`${line('created', item)}\n`);
    for (const item of report.updated) process.stdout.write(`${line('updated', item)}\n`);
    for (const item of report.left) process.stdout.write(`${line('left', item)}\n`);
    const changes = report.created.length + report.updated.length;
    process.stdout.write(
      changes === 0
        ? `nothing to do: ${report.unchanged.length} item(s) already as configured\n`
        : `${report.created.length} created, ${report.updated.length} updated, ${report.unchanged.length} unchanged, ${report.left.length} left alone\n`,
    );
    return 0;
  } finally {
    aws.onApplicationShutdown();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`ec2-manager setup: ${err instanceof InvalidConfigError ? err.message : String(err)}`);
    process.exit(1);
  },
);
