import { Test } from '@nestjs/testing';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { dataSourceOptions } from '../../src/state/data-source';
import { RunningPostgres, startEmbeddedPostgres } from '../../src/state/embedded-postgres';
import { StateModule } from '../../src/state/state.module';

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA, and a server certificate for 127.0.0.1 signed by it, as RDS's CA signs its servers'. */
function makeCertificates(dir: string): void {
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${ca}`,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
    );
  }
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
  // Postgres refuses a key others can read; it runs as `nobody` when we are root.
  fs.chmodSync(path.join(dir, 'server.key'), 0o600);
  if (process.getuid?.() === 0) fs.chownSync(path.join(dir, 'server.key'), 65534, 65534);
}

describe('TLS to the database (DATABASE_CA_FILE)', () => {
  let dir: string;
  let server: RunningPostgres;
  let url: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2m-tls-test-'));
    fs.chmodSync(dir, 0o755);
    makeCertificates(dir);
    server = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      ephemeral: true,
      settings: { ssl: 'on', ssl_cert_file: path.join(dir, 'server.pem'), ssl_key_file: path.join(dir, 'server.key') },
    });
    // What the RDS documentation suggests, and what node-postgres cannot verify on its own.
    url = `${server.url}?sslmode=require`;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const connect = async (config: AppConfig): Promise<DataSource> =>
    new DataSource(dataSourceOptions(config.databaseUrl!, 1, undefined, config.databaseTls)).initialize();

  it('sslmode=require alone fails certificate verification (the reason for the setting)', async () => {
    // (verify-full: what node-postgres does for require today, without its warning about the alias.)
    const alone = url.replace('sslmode=require', 'sslmode=verify-full');
    await expect(connect(AppConfig.forTest({ DATABASE_URL: alone }))).rejects.toThrow(
      /unable to verify|self[- ]signed certificate/,
    );
  });

  it('with the CA file, the service connects over TLS with the certificate verified', async () => {
    const config = AppConfig.forTest({
      DATABASE_URL: url,
      DATABASE_CA_FILE: path.join(dir, 'ca.pem'),
      RUN_MIGRATIONS: false,
    });
    const module = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config), StateModule] }).compile();
    await module.init();
    try {
      const rows: { ssl: boolean }[] = await module
        .get(DataSource)
        .query(`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`);
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await module.close();
    }
  });

  it('refuses a server whose certificate another CA signed', async () => {
    const config = AppConfig.forTest({ DATABASE_URL: url, DATABASE_CA_FILE: path.join(dir, 'other-ca.pem') });
    await expect(connect(config)).rejects.toThrow(/certificate/);
  });

  it('refuses to start with a CA file that is missing or holds no certificate, naming the variable', () => {
    expect(() => AppConfig.forTest({ DATABASE_CA_FILE: path.join(dir, 'missing.pem') })).toThrow(
      /DATABASE_CA_FILE: cannot read .*missing\.pem: ENOENT/,
    );
    expect(() => AppConfig.forTest({ DATABASE_CA_FILE: path.join(dir, 'san.ext') })).toThrow(
      /DATABASE_CA_FILE: .* holds no PEM certificate/,
    );
  });
});
