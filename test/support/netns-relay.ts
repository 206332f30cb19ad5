import { ChildProcess, spawn } from 'node:child_process';
import { compileTs, nodePathEnv } from './compile-ts';
import { FaultSettings } from './fault-proxy';

export interface NamespaceRelay {
  /** host:port clients connect to. */
  address: string;
  set(settings: FaultSettings): Promise<void>;
  /** Destroys every open connection, so clients reconnect through the current settings. */
  cutAll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the fault proxy (netns-relay.main.ts) under `prefix` (e.g. inside a host's namespace),
 * listening on listen, relaying to target; steered over its stdin.
 */
export async function startNamespaceRelay(options: {
  prefix: string[];
  listen: { host: string; port: number };
  target: { host: string; port: number };
}): Promise<NamespaceRelay> {
  const main = compileTs('test/support/netns-relay.main.ts', 'netns-relay');
  const { listen, target } = options;
  const [command, ...prefixArgs] = [...options.prefix, process.execPath];
  const child: ChildProcess = spawn(
    command,
    [...prefixArgs, main, listen.host, String(listen.port), target.host, String(target.port)],
    { env: { ...process.env, ...nodePathEnv() }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  let answered = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay not ready in 10 s: ${output}`)), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}: ${output}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('relay ready')) {
        clearTimeout(timer);
        resolve();
      }
      answered = (output.match(/^ok \d+$/gm) ?? []).length;
      for (const waiter of waiters.filter((w) => w.n <= answered)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  });
  await ready;
  let sent = 0;
  const send = (command: object) =>
    new Promise<void>((resolve, reject) => {
      const n = ++sent;
      const timer = setTimeout(() => reject(new Error(`relay did not answer: ${output}`)), 5_000);
      waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      child.stdin?.write(`${JSON.stringify(command)}\n`);
    });
  return {
    address: `${listen.host}:${listen.port}`,
    set: (settings) => send({ set: settings }),
    cutAll: () => send({ cutAll: true }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
