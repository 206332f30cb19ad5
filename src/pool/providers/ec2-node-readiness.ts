import { Clock } from '../clock.port';
import { HealthProbe } from './node-provider.port';
import { awsErrorName, errorText } from './ec2-aws-call';
import { Ec2PoolInstances } from './ec2-pool-instances';

export interface ReadinessResult<T> {
  ready: Map<string, T>;
  /** instance id → why it is not ready */
  failed: Map<string, string>;
}

/** States an instance that is being started never comes back from on its own. */
const DEAD_STATES = new Set(['shutting-down', 'terminated']);

/**
 * Polls DescribeInstances until every instance is `running` with a private IP (→ ready, value = IP),
 * has died, or the deadline passed. One describe per round, so a simulated clock advances once per round.
 */
export async function waitUntilRunning(
  instances: Ec2PoolInstances,
  ids: string[],
  clock: Clock,
  timing: { pollIntervalMs: number; timeoutMs: number },
): Promise<ReadinessResult<string>> {
  const result: ReadinessResult<string> = { ready: new Map(), failed: new Map() };
  const lastState = new Map<string, string>(ids.map((id) => [id, 'not visible yet']));
  // Right after StartInstances, EC2 may still report `stopped` (eventual consistency); only a stop seen
  // after `pending` means the start really failed (e.g. insufficient capacity).
  const seenPending = new Set<string>();
  const deadline = clock.now().getTime() + timing.timeoutMs;
  let waiting = [...ids];
  for (;;) {
    try {
      for (const instance of await instances.byIds(waiting)) {
        lastState.set(instance.id, instance.state);
        const reason = instance.stateReason ? ` (${instance.stateReason})` : '';
        if (instance.state === 'running' && instance.privateIp) {
          result.ready.set(instance.id, instance.privateIp);
        } else if (instance.state === 'pending') {
          seenPending.add(instance.id);
        } else if (
          DEAD_STATES.has(instance.state) ||
          (seenPending.has(instance.id) &&
            (instance.state === 'stopped' || instance.state === 'stopping'))
        ) {
          result.failed.set(instance.id, `went ${instance.state} while starting${reason}`);
        }
      }
    } catch (error) {
      // Instances just launched may not be visible yet; anything else is a real failure.
      if (awsErrorName(error) !== 'InvalidInstanceID.NotFound') throw error;
    }
    waiting = waiting.filter((id) => !result.ready.has(id) && !result.failed.has(id));
    if (waiting.length === 0) return result;
    if (clock.now().getTime() >= deadline) {
      for (const id of waiting) {
        result.failed.set(
          id,
          `not running with a private IP after ${timing.timeoutMs} ms (last state: ${lastState.get(id)})`,
        );
      }
      return result;
    }
    await clock.sleep(timing.pollIntervalMs);
  }
}

/**
 * Polls until every instance is `stopped` (a grow right after a shrink finds it `stopping`, and
 * StartInstances refuses that state). Throws naming the laggards when the deadline passes or one
 * is being terminated.
 */
export async function waitUntilStopped(
  instances: Ec2PoolInstances,
  ids: string[],
  clock: Clock,
  timing: { pollIntervalMs: number; timeoutMs: number },
): Promise<void> {
  const deadline = clock.now().getTime() + timing.timeoutMs;
  let waiting = [...ids];
  for (;;) {
    const found = await instances.byIds(waiting);
    const dead = found.filter((instance) => DEAD_STATES.has(instance.state));
    if (dead.length > 0) {
      throw new Error(
        `${dead.map((i) => `${i.id} went ${i.state}`).join(', ')} while waiting for it to stop`,
      );
    }
    const still = found.filter((instance) => instance.state !== 'stopped');
    waiting = still.map((instance) => instance.id);
    if (waiting.length === 0) return;
    if (clock.now().getTime() >= deadline) {
      const states = still.map((i) => `${i.id} ${i.state}`).join(', ');
      throw new Error(`not stopped after ${timing.timeoutMs} ms (${states})`);
    }
    await clock.sleep(timing.pollIntervalMs);
  }
}

/** Probes every node each round until all answer /health or the deadline passed; a probe that throws counts as a no. */
export async function waitUntilHealthy(
  urls: Map<string, string>,
  probe: HealthProbe,
  clock: Clock,
  timing: { pollIntervalMs: number; timeoutMs: number },
): Promise<ReadinessResult<string>> {
  const result: ReadinessResult<string> = { ready: new Map(), failed: new Map() };
  const lastError = new Map<string, string>();
  const deadline = clock.now().getTime() + timing.timeoutMs;
  let waiting = [...urls];
  for (;;) {
    await Promise.all(
      waiting.map(async ([id, url]) => {
        try {
          if (await probe(url)) result.ready.set(id, url);
        } catch (error) {
          lastError.set(id, errorText(error));
        }
      }),
    );
    waiting = waiting.filter(([id]) => !result.ready.has(id));
    if (waiting.length === 0) return result;
    if (clock.now().getTime() >= deadline) {
      for (const [id, url] of waiting) {
        const last = lastError.get(id);
        result.failed.set(
          id,
          `never answered ${url}/health within ${timing.timeoutMs} ms` +
            (last ? ` (last error: ${last})` : ''),
        );
      }
      return result;
    }
    await clock.sleep(timing.pollIntervalMs);
  }
}
