import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jestWorker, testPortOffset } from './ports';

const ROOT = path.resolve(__dirname, '..', '..');
let appsStarted = 0;

/**
 * Each app started by a test gets its own range of 8 cache-node ports, distinct per Jest worker,
 * so suites running in parallel never collide on the default 5001..5008.
 */
function nodePortBase(): number {
  return 20000 + testPortOffset() + jestWorker() * 1000 + (appsStarted++ % 100) * 10;
}
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

export interface AppProcess {
  url: string;
  /** Working folder of this instance: blobs, SQLite file. */
  dir: string;
  env: Record<string, string>;
  /** More argv for the app; a test may change it before a restart (e.g. a crash point). */
  args: string[];
  /** Process id of the app (its cache nodes are its children). */
  pid(): number;
  /** Exit code once the process has exited (null while running, or when killed by a signal). */
  exitCode(): number | null;
  output(): string;
  stop(): Promise<void>;
  /** Stop and start again on the same data, on a new port. */
  restart(): Promise<void>;
}

/**
 * Starts the built app (`npm run build` first; `npm test` does) as a real process on a free port,
 * with its own data folder, and waits for it to listen.
 */
export async function startApp(
  options: {
    env?: Record<string, string>;
    dir?: string;
    /** Command the app runs under, e.g. ['ip', 'netns', 'exec', 'ns1'] (it must exec the app). */
    prefix?: string[];
    /** More argv for the app, e.g. ['--pixpool-test-mutant=ack-before-invalidate']. */
    args?: string[];
    startTimeoutMs?: number;
  } = {},
): Promise<AppProcess> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-e2e-'));
  const env: Record<string, string> = {
    PIXPOOL_SERVER_PORT: '0',
    PIXPOOL_SERVER_HOST: '127.0.0.1',
    PIXPOOL_STORAGE_DIR: path.join(dir, 'blobs'),
    PIXPOOL_DATABASE_FILE: path.join(dir, 'pixpool.sqlite'),
    PIXPOOL_POOL_BASE_PORT: String(nodePortBase()),
    ...options.env,
  };
  let child: ChildProcess;
  let log = '';
  const app: AppProcess = {
    url: '',
    dir,
    env,
    args: [...(options.args ?? [])],
    output: () => log,
    pid: () => child.pid ?? -1,
    exitCode: () => child.exitCode,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    restart: async () => {
      await app.stop();
      await launch();
    },
  };
  const launch = async () => {
    const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
    child = spawn(command, [...prefixArgs, MAIN, ...app.args], {
      cwd: ROOT,
      env: { ...pickBaseEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const from = log.length; // a restart must find its own "listening" line, not the last run's
    app.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL'); // never leave a half-started app holding its node ports
        reject(new Error(`app did not start in ${startTimeoutMs / 1000} s:\n${log}`));
      }, startTimeoutMs);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const match = /pixpool listening on (http:\/\/[\d.]+:\d+)/.exec(log.slice(from));
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`app exited with ${code} before listening:\n${log}`));
      });
    });
  };
  await launch();
  return app;
}

/** The parent's environment without PIXPOOL_* settings, so a developer's shell does not leak in. */
function pickBaseEnv(): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('PIXPOOL_')) base[name] = value;
  }
  base.NO_COLOR = '1';
  return base;
}
