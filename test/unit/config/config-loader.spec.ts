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

  describe('secrets', () => {
    function messageOf(load: () => unknown): string {
      try {
        load();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('the config was accepted');
    }

    it.each([
      ['security.adminToken', { PIXPOOL_SECURITY_ADMIN_TOKEN: 'short-admin-token' }],
      ['security.nodeSecret', { PIXPOOL_SECURITY_NODE_SECRET: 'short-node-secret' }],
    ])('refuses a %s shorter than 32 characters without printing it', (field, env) => {
      const message = messageOf(() => loadConfig({ env }));
      expect(message).toContain(`${field}: must be at least 32 characters`);
      expect(message).not.toMatch(/short-(admin-token|node-secret)/);
    });

    it('accepts secrets of 32 characters', () => {
      const secret = 'x'.repeat(32);
      const sut = loadConfig({
        env: { PIXPOOL_SECURITY_ADMIN_TOKEN: secret, PIXPOOL_SECURITY_NODE_SECRET: secret },
      });
      expect(sut.security.adminToken).toBe(secret);
    });

    it('never prints a security.* or database credential value in a validation error', () => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-cfg-')), 'c.yaml');
      fs.writeFileSync(
        file,
        'security:\n  adminToken: 918273645546372819\n  allowInsecureNetwork: hunter2-in-a-bool\n' +
          'database:\n  password: 5550123999\n  url: 4242424242\n  user: 7777777\n',
      );
      const message = messageOf(() => loadConfig({ env: { PIXPOOL_CONFIG: file } }));
      expect(message).toMatch(/security\.adminToken: .*\(got <redacted>\)/);
      expect(message).toMatch(/database\.password: .*\(got <redacted>\)/);
      for (const secret of ['918273645546372819', 'hunter2', '5550123999', '4242424242', '7777777'])
        expect(message).not.toContain(secret);
    });
  });
});
