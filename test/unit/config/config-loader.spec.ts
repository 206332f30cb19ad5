import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, envName, loadConfig } from '../../../src/config/config-loader';

describe('loadConfig', () => {
  it('gives the embedded defaults with no other source', () => {
    const sut = loadConfig();
    expect(sut.server.port).toBe(5000);
    expect(sut.storage.driver).toBe('fs');
    expect(sut.database.driver).toBe('sqlite');
    expect(sut.pool).toMatchObject({ min: 1, max: 8, provider: 'local', allocator: 'balanced' });
  });

  it('names environment variables after the field path', () => {
    expect(envName(['server', 'uploadLimitBytes'])).toBe('PIXPOOL_SERVER_UPLOAD_LIMIT_BYTES');
    expect(envName(['pool', 'ec2', 'startTimeoutMs'])).toBe('PIXPOOL_POOL_EC2_START_TIMEOUT_MS');
  });

  it('layers default.yaml < PIXPOOL_CONFIG file < environment', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-cfg-')), 'c.yaml');
    fs.writeFileSync(
      file,
      'server:\n  port: 6000\n  host: 127.0.0.1\ndatabase:\n  driver: mysql\n  url: mysql://u@h/db\n',
    );
    const sut = loadConfig({
      env: {
        PIXPOOL_CONFIG: file,
        PIXPOOL_SERVER_PORT: '7000',
        PIXPOOL_STORAGE_FORCE_PATH_STYLE: 'true',
      },
    });
    expect(sut.server.port).toBe(7000);
    expect(sut.server.host).toBe('127.0.0.1');
    expect(sut.database.driver).toBe('mysql');
    expect(sut.storage.forcePathStyle).toBe(true);
  });

  it.each([
    [{ PIXPOOL_SERVER_PORT: 'eighty' }, /server\.port: .*integer.*"eighty"/],
    [{ PIXPOOL_SERVER_PORT: '70000' }, /server\.port: .*65535/],
    [{ PIXPOOL_STORAGE_DRIVER: 'ftp' }, /storage\.driver: .*fs, s3/],
    [{ PIXPOOL_STORAGE_DRIVER: 's3' }, /storage\.bucket: required/],
    [{ PIXPOOL_POOL_MAX: '9' }, /pool\.max: .*8/],
    [{ PIXPOOL_POOL_INITIAL: '3', PIXPOOL_POOL_MAX: '2' }, /pool\.initial: must lie within/],
    [{ PIXPOOL_AUTOSCALER_MIN_MISS: '0.9' }, /autoscaler\.minMiss: must be below/],
    [{ PIXPOOL_METRICS_DIMENSIONS: 'nonsense' }, /metrics\.dimensions/],
  ])('refuses %p naming the field', (env, message) => {
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(message);
  });

  it('refuses an unknown field in a config file, so a typo is not ignored', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-cfg-')), 'c.yaml');
    fs.writeFileSync(file, 'server:\n  prot: 6000\n');
    expect(() => loadConfig({ env: { PIXPOOL_CONFIG: file } })).toThrow(
      'config: unknown field server.prot',
    );
  });

  it('refuses a config file that is missing', () => {
    expect(() => loadConfig({ env: { PIXPOOL_CONFIG: '/nonexistent/pixpool.yaml' } })).toThrow(
      /cannot read \/nonexistent\/pixpool.yaml/,
    );
  });
});
