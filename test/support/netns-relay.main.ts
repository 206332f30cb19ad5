/*
 * The fault proxy as a program of its own, so it can run inside a network namespace (`ip netns
 * exec`): a user-space TCP relay between hosts that adds latency, resets or stalls connections.
 *
 *   node netns-relay.main.js <listenHost> <listenPort> <targetHost> <targetPort>
 *
 * Prints "relay ready" once it listens. Reads commands from stdin, one JSON object a line:
 * {"set": FaultSettings} or {"cutAll": true}; answers each with "ok <n>" (n counts commands).
 * Exits when stdin closes (its parent died or is done).
 */
import * as readline from 'node:readline';
import { FaultSettings, startFaultProxy } from './fault-proxy';

async function main(): Promise<void> {
  const [listenHost, listenPort, targetHost, targetPort] = process.argv.slice(2);
  const proxy = await startFaultProxy({
    host: listenHost,
    port: Number(listenPort),
    target: { host: targetHost, port: Number(targetPort) },
  });
  process.stdout.write('relay ready\n');
  let handled = 0;
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    void (async () => {
      const command = JSON.parse(line) as { set?: FaultSettings; cutAll?: boolean };
      if (command.set) await proxy.set(command.set);
      if (command.cutAll) proxy.cutAll();
      process.stdout.write(`ok ${++handled}\n`);
    })().catch((error: Error) => process.stdout.write(`error ${error.message}\n`));
  });
  lines.on('close', () => {
    void proxy.close().finally(() => process.exit(0));
  });
}

main().catch((error: Error) => {
  process.stderr.write(`relay failed: ${error.message}\n`);
  process.exit(1);
});
