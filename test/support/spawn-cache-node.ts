import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodePolicy } from '../../src/protocol/cache-node.protocol';
import { compileTs, nodePathEnv } from './compile-ts';

export interface SpawnCacheNodeOptions {
  /** Default 0: a free port, read back from the ready line. */
  port?: number;
  host?: string;
  capacityMb?: number;
  capacityBytes?: number;
  policy?: NodePolicy;
  /** Passed in PIXPOOL_NODE_SECRET; without it the node runs with no secret. */
  secret?: string;
  /** More argv, e.g. ['--lease-ttl-ms', '200']. */
  args?: string[];
  startTimeoutMs?: number;
  /** Command the node runs under, e.g. ['ip', 'netns', 'exec', 'ns1'] (it must exec the node). */
  prefix?: string[];
}

export interface SpawnedCacheNode {
  url: string;
  port: number;
  process: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** The node failed to start: it exited (code set) or did not print its ready line in time. */
export class CacheNodeStartError extends Error {
  override readonly name = 'CacheNodeStartError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(message);
  }
}

const READY = /pixpool cache node listening on (http:\/\/(\S+):(\d+))/;

/** Compiled src/cache-node/main.ts (cached between runs; see compile-ts.ts). */
export function cacheNodeMain(): string {
  return compileTs('src/cache-node/main.ts', 'cache-node');
}

/**
 * The program the node suites run: the compiled sources, or, when PIXPOOL_TEST_CACHE_NODE_BUNDLE
 * names the esbuild bundle (`npm run build:node`; `npm run test:node-bundle` sets it), a copy of
 * that one file alone in an empty folder, run from there with no NODE_PATH: what an operator
 * installs on a node instance, proven to need nothing but Node.
 */
function nodeProgram(): { main: string; cwd?: string; env: Record<string, string> } {
  const bundle = process.env.PIXPOOL_TEST_CACHE_NODE_BUNDLE;
  if (!bundle) return { main: cacheNodeMain(), env: nodePathEnv() };
  const source = path.resolve(__dirname, '..', '..', bundle);
  if (!fs.existsSync(source)) throw new Error(`${source} is missing: run \`npm run build:node\``);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-node-bundle-'));
  const main = path.join(dir, path.basename(source));
  fs.copyFileSync(source, main);
  return { main, cwd: dir, env: {} };
}

/**
 * Runs a real cache node process (the same program as `npm run start:node`) and resolves once it
 * listens. It is spawned with an IPC channel, so it exits by itself if the test process dies.
 */
export function spawnCacheNode(options: SpawnCacheNodeOptions = {}): Promise<SpawnedCacheNode> {
  const args = ['--port', String(options.port ?? 0)];
  if (options.host) args.push('--host', options.host);
  if (options.capacityBytes !== undefined)
    args.push('--capacity-bytes', String(options.capacityBytes));
  if (options.capacityMb !== undefined) args.push('--capacity-mb', String(options.capacityMb));
  if (options.policy) args.push('--policy', options.policy);
  args.push(...(options.args ?? []));
  const program = nodeProgram();
  const env: NodeJS.ProcessEnv = { ...process.env, ...program.env };
  delete env.PIXPOOL_NODE_SECRET;
  if (program.cwd) delete env.NODE_PATH;
  if (options.secret !== undefined) env.PIXPOOL_NODE_SECRET = options.secret;

  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
  const child = spawn(command, [...prefixArgs, program.main, ...args], {
    env,
    cwd: program.cwd,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (child.connected) child.disconnect();
    if (program.cwd) fs.rmSync(program.cwd, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const fail = (message: string): void => {
      clearTimeout(timer);
      void stop().then(() =>
        reject(new CacheNodeStartError(`${message}\n${log}`, child.exitCode, log)),
      );
    };
    const timer = setTimeout(
      () => fail('cache node did not report ready in time'),
      options.startTimeoutMs ?? 10_000,
    );
    const onEarlyExit = (code: number | null): void =>
      fail(`cache node exited with code ${code} before it was ready`);
    child.on('exit', onEarlyExit);
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const ready = READY.exec(log);
      if (!ready) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      resolve({ url: ready[1], port: Number(ready[3]), process: child, output: () => log, stop });
    });
  });
}
