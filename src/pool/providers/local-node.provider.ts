import { Logger } from '@nestjs/common';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { packageRoot } from '../../config/config-loader';
import { NodeEndpoint, NodeProvider } from './node-provider.port';

export interface LocalNodeOptions {
  basePort: number;
  maxNodes: number;
  capacityMb: number;
  policy: string;
  secret: string;
  /** The near-cache lease the nodes grant (their --near-lease-ms); the node's default if unset. */
  nearLeaseMs?: number;
  startTimeoutMs?: number;
  /** The compiled node entry; the default is this build's. */
  entry?: string;
  /**
   * The app's client limits, applied to its nodes too (the node's defaults otherwise). The keep-alive
   * timeout stays at least 5 s: the app's node client drops idle sockets after 4 s, and the node
   * must not be the side that closes first.
   */
  limits?: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxConnections: number;
  };
}

/**
 * Cache nodes as child processes on 127.0.0.1, ports basePort.. (the embedded default). Each child
 * has an IPC channel and exits when it closes, so killing the app (even with -9) leaves no orphans.
 */
export class LocalNodeProvider implements NodeProvider {
  readonly kind = 'local' as const;
  private readonly logger = new Logger(LocalNodeProvider.name);
  private readonly running = new Map<number, { endpoint: NodeEndpoint; child: ChildProcess }>();
  /** Ports of pool members, dead ones too: a replacement must not take a dead member's id. */
  private members = new Set<number>();

  constructor(private readonly options: LocalNodeOptions) {}

  adopt(ids: string[]): void {
    this.members = new Set(ids.map((id) => Number(id.replace(/^local-/, ''))));
  }

  async list(): Promise<NodeEndpoint[]> {
    return [...this.running.values()].map((r) => r.endpoint);
  }

  async start(count: number): Promise<NodeEndpoint[]> {
    const ports = this.freePorts(count);
    const started = await Promise.allSettled(ports.map((port) => this.spawnNode(port)));
    const failed = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (failed.length > 0) {
      await this.stop(ok.map((n) => n.id));
      throw new Error(
        `could not start local cache nodes: ${failed.map((f) => (f.reason as Error).message).join('; ')}`,
      );
    }
    return ok;
  }

  async stop(ids: string[]): Promise<void> {
    await Promise.all(
      ids.map(async (id) => {
        const port = Number(id.replace(/^local-/, ''));
        const entry = this.running.get(port);
        if (!entry) return;
        this.running.delete(port);
        await terminate(entry.child);
      }),
    );
  }

  async capacity(): Promise<number> {
    return this.options.maxNodes;
  }

  /** Stops every child (app shutdown). */
  async stopAll(): Promise<void> {
    await this.stop([...this.running.values()].map((r) => r.endpoint.id));
  }

  private freePorts(count: number): number[] {
    const ports: number[] = [];
    for (let i = 0; i < this.options.maxNodes && ports.length < count; i++) {
      const port = this.options.basePort + i;
      if (!this.running.has(port) && !this.members.has(port)) ports.push(port);
    }
    if (ports.length < count) {
      throw new Error(`local provider runs at most ${this.options.maxNodes} nodes`);
    }
    return ports;
  }

  private spawnNode(port: number): Promise<NodeEndpoint> {
    const entry =
      this.options.entry ?? path.join(packageRoot(), 'dist', 'src', 'cache-node', 'main.js');
    const args = [entry, '--port', String(port), '--host', '127.0.0.1'];
    args.push('--capacity-mb', String(this.options.capacityMb), '--policy', this.options.policy);
    if (this.options.nearLeaseMs !== undefined)
      args.push('--near-lease-ms', String(this.options.nearLeaseMs));
    const limits = this.options.limits;
    if (limits) {
      args.push('--headers-timeout-ms', String(limits.headersTimeoutMs));
      args.push('--request-timeout-ms', String(limits.requestTimeoutMs));
      args.push('--keep-alive-timeout-ms', String(Math.max(limits.keepAliveTimeoutMs, 5_000)));
      args.push('--max-connections', String(limits.maxConnections));
    }
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...nodeEnvironment(process.env), PIXPOOL_NODE_SECRET: this.options.secret },
    });
    const endpoint = { id: `local-${port}`, url: `http://127.0.0.1:${port}` };
    return new Promise<NodeEndpoint>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`node on port ${port} not ready in time: ${output.trim()}`));
      }, this.options.startTimeoutMs ?? 10_000);
      const onOutput = (chunk: Buffer) => {
        output += chunk.toString();
        if (!output.includes('listening on')) return;
        clearTimeout(timer);
        this.running.set(port, { endpoint, child });
        resolve(endpoint);
      };
      child.stdout!.on('data', onOutput);
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        this.logger.warn(`node ${port}: ${chunk.toString().trim()}`);
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`node on port ${port} could not be spawned: ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.running.get(port)?.child === child) {
          this.running.delete(port);
          this.logger.warn(`node ${endpoint.id} exited (${signal ?? code})`);
        }
        reject(new Error(`node on port ${port} exited with ${signal ?? code}: ${output.trim()}`));
      });
    });
  }
}

/**
 * What a node process inherits from the app: enough to run Node (search path, time zone, locale,
 * temp folder), never the app's credentials (database password, AWS keys, admin token); the node
 * gets its settings in argv and its secret in PIXPOOL_NODE_SECRET.
 */
const NODE_INHERITS = ['PATH', 'TZ', 'LANG', 'LC_ALL', 'TMPDIR'];

function nodeEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of NODE_INHERITS) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
