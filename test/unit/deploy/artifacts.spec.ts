import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTestMysqlDatabase, TestMysqlDatabase } from '../../support/mysql';

/*
 * What deploy/scripts/build-artifacts.sh built (issue 20: instances install from S3 alone): an app
 * archive per CPU whose node_modules need no registry and no compiler on the instance. Runs on the
 * folder PIXPOOL_TEST_ARTIFACTS names (.ci/run sets it to dist/artifacts right after building
 * them, as `npm run test:node-bundle` does for the node bundle); skipped without it.
 */
const ARTIFACTS = process.env.PIXPOOL_TEST_ARTIFACTS;
if (!ARTIFACTS) console.warn('PIXPOOL_TEST_ARTIFACTS not set: skipping the artifact checks');
const ARCHES = ['x64', 'arm64'] as const;
const other = (arch: string): string => (arch === 'x64' ? 'arm64' : 'x64');

const entriesOf = (arch: string): string[] => {
  const listed = spawnSync('tar', ['-tzf', path.join(ARTIFACTS!, `pixpool-app-${arch}.tgz`)], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  expect(listed.status).toBe(0);
  return listed.stdout.split('\n').filter(Boolean);
};

(ARTIFACTS ? describe : describe.skip)('build-artifacts.sh output', () => {
  const entries: Record<string, string[]> = {};
  beforeAll(() => {
    for (const arch of ARCHES) entries[arch] = entriesOf(arch);
  }, 60_000);

  it('there is one app archive per CPU and no archive that would need npm on the instance', () => {
    const files = fs.readdirSync(ARTIFACTS!);
    expect(files).toEqual(
      expect.arrayContaining(['pixpool-app-x64.tgz', 'pixpool-app-arm64.tgz', 'pixpool-node.js']),
    );
    expect(files).not.toContain('pixpool-app.tgz');
  });

  it.each(ARCHES)(
    'the %s archive holds the app, its production modules and sharp prebuilt for that CPU only',
    (arch) => {
      const has = (entry: string): boolean => entries[arch].includes(entry);
      for (const entry of ['dist/src/main.js', 'package-lock.json', 'node_modules/mysql2/'])
        expect(has(entry)).toBe(true);
      const binary = new RegExp(
        `^node_modules/@img/sharp-linux-${arch}/lib/sharp-linux-${arch}(-[\\d.]+)?\\.node$`,
      );
      expect(entries[arch].filter((e) => binary.test(e))).toHaveLength(1);
      expect(
        entries[arch].some((e) =>
          e.startsWith(`node_modules/@img/sharp-libvips-linux-${arch}/lib/libvips-cpp.so`),
        ),
      ).toBe(true);
      const foreign = other(arch);
      expect(entries[arch].filter((e) => e.includes(`-${foreign}/`))).toEqual([]);
      expect(entries[arch].filter((e) => /linuxmusl|darwin|win32/.test(e))).toEqual([]);
      // Dev dependencies stay out.
      expect(
        entries[arch].filter((e) => /^node_modules\/(jest|typescript|esbuild)\//.test(e)),
      ).toEqual([]);
    },
  );

  it.each(ARCHES)(
    'the %s archive needs no build: no better-sqlite3, and sharp is the only package with native sources',
    (arch) => {
      expect(entries[arch].filter((e) => e.startsWith('node_modules/better-sqlite3/'))).toEqual([]);
      const gyp = entries[arch].filter((e) => e.endsWith('/binding.gyp'));
      // sharp ships its C++ for platforms without a prebuilt package; this one has its package.
      expect(gyp).toEqual(['node_modules/sharp/src/binding.gyp']);
      expect(entries[arch].filter((e) => /\/build\/Release\//.test(e))).toEqual([]);
    },
  );

  /*
   * The x64 archive on this (x64 Linux) machine, as an instance runs it: unpacked, no npm, sharp
   * loads its prebuilt binary, and the app starts on MySQL (better-sqlite3 absent: nothing loads
   * it with the mysql driver) and answers /health/ready.
   */
  const onX64 = process.arch === 'x64' && process.platform === 'linux';
  (onX64 ? describe : describe.skip)('unpacked and run', () => {
    let dir: string;
    let database: TestMysqlDatabase;
    let app: ChildProcess | undefined;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-app-artifact-'));
      const unpacked = spawnSync('tar', [
        '-xzf',
        path.join(ARTIFACTS!, 'pixpool-app-x64.tgz'),
        '-C',
        dir,
      ]);
      expect(unpacked.status).toBe(0);
      database = await createTestMysqlDatabase();
    }, 60_000);
    afterAll(async () => {
      if (app && app.exitCode === null) {
        app.kill('SIGTERM');
        await new Promise((resolve) => app!.once('exit', resolve));
      }
      await database?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('sharp loads its prebuilt binary from the archive', () => {
      const script =
        "const sharp = require('sharp'); sharp({ create: { width: 2, height: 2, channels: 3, background: 'red' } }).png().toBuffer().then((b) => console.log(b.length > 0 ? 'png' : 'empty'))";
      const ran = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
      expect(ran.stderr).toBe('');
      expect(ran.stdout.trim()).toBe('png');
    });

    it('the app starts on MySQL with the archive alone and is ready', async () => {
      const basePort = await freePort();
      app = spawn(process.execPath, ['dist/src/main.js'], {
        cwd: dir,
        env: {
          PATH: path.dirname(process.execPath),
          HOME: dir,
          NODE_ENV: 'production',
          npm_config_offline: 'true',
          ...database.env,
          PIXPOOL_STORAGE_DIR: path.join(dir, 'blobs'),
          PIXPOOL_SERVER_PORT: '0',
          PIXPOOL_POOL_BASE_PORT: String(basePort),
          PIXPOOL_LOG_FORMAT: 'json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      app.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      app.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setInterval(() => {
          const listening = /pixpool listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
          if (listening) finish(() => resolve(Number(listening[1])));
          else if (app!.exitCode !== null)
            finish(() => reject(new Error(`the app exited: ${output}`)));
        }, 100);
        const deadline = setTimeout(
          () => finish(() => reject(new Error(`no start in 45 s: ${output}`))),
          45_000,
        );
        const finish = (then: () => void): void => {
          clearInterval(timer);
          clearTimeout(deadline);
          then();
        };
      });
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      expect(output).not.toMatch(/better-sqlite3|Cannot find module/);
    }, 60_000);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
