import { AppConfig } from './app-config';
import { InvalidConfigError, validateEnv } from './env';

function problems(raw: Record<string, string>): string[] {
  try {
    validateEnv(raw);
  } catch (err) {
    if (err instanceof InvalidConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('has sandbox defaults for everything', () => {
    const config = AppConfig.fromEnv({});
    expect(config.port).toBe(5555);
    expect(config.awsMode).toBe('sandbox');
    expect(config.regions).toEqual(['us-east-1', 'us-west-2', 'eu-central-1']);
    expect(config.maxInstanceLifeHours).toBe(96);
    expect(config.job('spot-poll')).toEqual({ enabled: true, everySeconds: 25 });
    expect(config.job('housekeeping')).toEqual({ enabled: true, everySeconds: 3600 });
    expect(config.job('pricing')).toEqual({ enabled: true, everySeconds: 900 });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.runMigrations).toBe(true);
    expect(config.deadLetterQueueName).toBe('ec2-events-dead');
  });

  it('listens on loopback in sandbox mode and on every interface in aws mode, unless HOST says', () => {
    expect(AppConfig.fromEnv({}).host).toBe('127.0.0.1');
    const aws = {
      AWS_MODE: 'aws',
      REGIONS: 'us-east-1',
      MANAGER_ID: 'm',
      INSTANCE_PUBKEY: AppConfig.forTest().instancePubkey,
    };
    expect(AppConfig.fromEnv(aws).host).toBe('0.0.0.0');
    expect(AppConfig.fromEnv({ ...aws, HOST: '10.0.0.7' }).host).toBe('10.0.0.7');
    expect(AppConfig.fromEnv({ HOST: '::' }).host).toBe('::');
  });

  it('parses numbers, lists and booleans', () => {
    const config = AppConfig.fromEnv({
      PORT: '8080',
      REGIONS: ' us-east-1 , eu-west-1 ',
      RUN_MIGRATIONS: 'false',
      MAX_INSTANCE_LIFE_HOURS: '12.5',
      DATABASE_URL: 'postgres://u@db.internal:5432/ec2',
    });
    expect(config.port).toBe(8080);
    expect(config.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(config.runMigrations).toBe(false);
    expect(config.maxInstanceLifeHours).toBe(12.5);
    expect(config.databaseUrl).toBe('postgres://u@db.internal:5432/ec2');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ HOST: 'localhost' }, 'HOST'],
    [{ REGIONS: '' }, 'REGIONS'],
    [{ REGIONS: 'us-east-1,mars' }, 'REGIONS'],
    [{ MANAGER_ID: 'has:colon' }, 'MANAGER_ID'],
    [{ INSTANCE_PUBKEY: 'not a key' }, 'INSTANCE_PUBKEY'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ AWS_MODE: 'cloud' }, 'AWS_MODE'],
    [{ SPOT_POLL_SECONDS: '0' }, 'SPOT_POLL_SECONDS'],
    [{ RUN_MIGRATIONS: 'maybe' }, 'RUN_MIGRATIONS'],
    [{ API_CLIENTS: '[{' }, 'API_CLIENTS'],
    [{ API_CLIENTS: '{}' }, 'API_CLIENTS'],
    [{ API_CLIENTS: '[{"clientId":"a","tokenSha256":"secret","scopes":[]}]' }, 'API_CLIENTS[0].tokenSha256'],
    [
      { API_CLIENTS: `[{"clientId":"a","tokenSha256":"${'a'.repeat(64)}","scopes":["other:x"]}]` },
      'API_CLIENTS[0].scopes',
    ],
    [{ API_CLIENTS: `[{"tokenSha256":"${'a'.repeat(64)}","scopes":[]}]` }, 'API_CLIENTS[0].clientId'],
  ])('refuses %j, naming %s', (raw, variable) => {
    const found = problems(raw);
    expect(found).toHaveLength(1);
    expect(found[0].startsWith(variable)).toBe(true);
  });

  it('parses INSTANCE_PUBKEY as an OpenSSH key: a key EC2 would refuse stops the start, saying why', () => {
    // Looks like a key to a regular expression; its data is cut short.
    expect(problems({ INSTANCE_PUBKEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGVj me' })).toEqual([
      'INSTANCE_PUBKEY: not a usable OpenSSH public key: the key data ends inside its public key',
    ]);
    expect(problems({ INSTANCE_PUBKEY: `ssh-rsa ${AppConfig.forTest().instancePubkey.split(' ')[1]}` })).toEqual([
      'INSTANCE_PUBKEY: not a usable OpenSSH public key: the key data says "ssh-ed25519", the text "ssh-rsa"',
    ]);
  });

  it('names every bad variable at once', () => {
    expect(
      problems({ PORT: 'abc', REGIONS: '' })
        .map((p) => p.split(/[: ]/)[0])
        .sort(),
    ).toEqual(['PORT', 'REGIONS']);
  });

  it('requires the account settings in aws mode', () => {
    expect(
      problems({ AWS_MODE: 'aws' })
        .map((p) => p.split(':')[0])
        .sort(),
    ).toEqual(['INSTANCE_PUBKEY', 'MANAGER_ID', 'REGIONS']);
  });

  it('treats an empty optional setting as unset', () => {
    expect(AppConfig.fromEnv({ DATABASE_URL: '', SENTRY_DSN: '' }).databaseUrl).toBeUndefined();
  });

  it('starts the sandbox in process only in sandbox mode with no endpoints, and no more once they are given', () => {
    const endpoints = { ec2: 'http://127.0.0.1:1', sqs: 'http://127.0.0.1:2', events: 'http://127.0.0.1:1' };
    const sandbox = AppConfig.fromEnv({});
    expect(sandbox.inProcessSandbox).toBe(true);
    expect(sandbox.withEndpoints(endpoints).inProcessSandbox).toBe(false);
    expect(AppConfig.fromEnv({ EC2_ENDPOINT: endpoints.ec2 }).inProcessSandbox).toBe(true);
    const aws = AppConfig.fromEnv({
      AWS_MODE: 'aws',
      REGIONS: 'us-east-1',
      MANAGER_ID: 'ec2-manager-prod',
      INSTANCE_PUBKEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG1u8dz3aS1vQdO5lRgnvwI9m7IMOk8bMSeFX2rGbBiq x',
      DATABASE_URL: 'postgres://u@db:5432/ec2',
    });
    expect(aws.inProcessSandbox).toBe(false);
  });
});
