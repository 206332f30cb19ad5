import { Logger } from '@nestjs/common';
import {
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Clock } from '../clock.port';
import { HealthProbe, NodeEndpoint, NodeProvider } from './node-provider.port';
import { awsErrorName, errorText, ec2Call, ThrottleRetry } from './ec2-aws-call';
import { InstanceClaims } from './ec2-instance-claims';
import {
  describePool,
  Ec2NodeProviderOptions,
  resolveEc2Options,
  ResolvedEc2Options,
} from './ec2-node-provider.options';
import { waitUntilHealthy, waitUntilRunning, waitUntilStopped } from './ec2-node-readiness';
import { Ec2PoolInstances, PoolInstance } from './ec2-pool-instances';

/** What one reconciler pass did. */
export interface ReconcileReport {
  /** Stopped: running outside the assignment past the grace period. */
  stopped: string[];
  /** Outside the assignment, not yet past the grace period: id → ms outside so far. */
  waiting: Map<string, number>;
  /** Outside the assignment but claimed by an app instance that is bringing it up. */
  claimed: string[];
}

/**
 * Cache nodes on a pool of pre-provisioned EC2 instances (one node on port `port` per instance), found by tag
 * and/or id list.
 *
 * Growing takes, in this order: running pool instances outside the assignment that answer /health (already
 * billed, ready at once: a fresh deployment whose instances run, or a stray of a crashed grow), stopped ones
 * (lowest ids first, so the choice is reproducible), stopping ones once they are stopped, and, when none is
 * left, launches from the launch template. Every instance is claimed in the database before it is taken
 * (see ec2-instance-claims.ts), so two app instances never take the same one. Shrinking stops instances,
 * waiting out `pending`. The reconciler (reconcile(), run by Ec2Reconciler on the leader) stops tagged
 * instances left running outside the assignment past a grace period: after a crash between StartInstances
 * and the save, or a rollback that could not stop in time.
 */
export class Ec2NodeProvider implements NodeProvider {
  readonly kind = 'ec2' as const;
  /** Who this process is in the claims table. */
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  /** The settings it runs with, defaults filled in. */
  readonly options: ResolvedEc2Options;
  private readonly instances: Ec2PoolInstances;
  private readonly retry: ThrottleRetry;
  private readonly logger = new Logger(Ec2NodeProvider.name);
  /** The pool's members as last told by adopt(); an empty set means no pool exists yet (first boot). */
  private members: ReadonlySet<string> = new Set();
  /** Reconciler memory: instance id → when it was first seen running outside the assignment. */
  private readonly outsideSince = new Map<string, number>();
  /**
   * Instance id → until when grows skip it: it started but never became healthy (an install cut
   * short, a broken disk). Without this it would be first in line again and roll every grow back.
   */
  private readonly failedUntil = new Map<string, number>();

  constructor(
    options: Ec2NodeProviderOptions,
    private readonly ec2: EC2Client,
    private readonly probe: HealthProbe,
    private readonly clock: Clock,
    private readonly claims: InstanceClaims,
  ) {
    this.options = resolveEc2Options(options);
    this.retry = {
      clock,
      baseMs: 500,
      maxMs: 8_000,
      deadlineMs: this.options.throttleDeadlineMs,
    };
    this.instances = new Ec2PoolInstances(ec2, this.options, this.retry);
  }

  adopt(ids: string[]): void {
    this.members = new Set(ids);
  }

  /**
   * Running pool instances. Pending ones (a start in flight, e.g. by an app instance that died mid-grow) are
   * waited for until running and healthy; those that do not get there are left out with a warning, not thrown,
   * so one bad instance cannot stop the app from booting.
   */
  async list(): Promise<NodeEndpoint[]> {
    const found = await this.instances.inStates(['pending', 'running']);
    const nodes = found.flatMap((instance) =>
      instance.state === 'running' && instance.privateIp
        ? [this.endpoint(instance.id, instance.privateIp)]
        : [],
    );
    const pending = found
      .filter((instance) => !nodes.some((node) => node.id === instance.id))
      .map((instance) => instance.id);
    if (pending.length > 0) {
      const { ready, failed } = await this.waitUntilReady(pending);
      for (const [id, reason] of failed) this.logger.warn(`left out of the pool: ${id} ${reason}`);
      nodes.push(...ready);
    }
    return sortById(nodes);
  }

  async start(count: number): Promise<NodeEndpoint[]> {
    if (!Number.isInteger(count) || count < 0) {
      throw new Error(
        `EC2 node provider cannot start ${count} nodes: count must be a whole number >= 0`,
      );
    }
    if (count === 0) return [];
    const firstBoot = this.members.size === 0;
    const free = await this.freeInstances();
    const adopted: NodeEndpoint[] = [];
    const toStart: PoolInstance[] = [];
    /** Everything this call claimed (freed on failure) and what it started (stopped on failure). */
    const taken: string[] = [];
    const started: string[] = [];
    try {
      for (const instance of free.filter((i) => i.state === 'running' && i.privateIp)) {
        if (adopted.length === count) break;
        const node = this.endpoint(instance.id, instance.privateIp ?? '');
        if (!(await this.answers(node.url)) || !(await this.claim(instance.id))) continue;
        taken.push(instance.id);
        adopted.push(node);
      }
      const startable = [
        ...free.filter((i) => i.state === 'stopped'),
        ...free.filter((i) => i.state === 'stopping'),
      ];
      for (const instance of startable) {
        if (adopted.length + toStart.length === count) break;
        if (!(await this.claim(instance.id))) continue;
        taken.push(instance.id);
        toStart.push(instance);
      }
      const toLaunch = count - adopted.length - toStart.length;
      const launch = this.options.launch;
      if (toLaunch > 0 && !launch) {
        throw new Error(
          `EC2 node provider cannot start ${count} node(s): ${adopted.length + toStart.length} free ` +
            `instance(s) ${describePool(this.options)} (running and healthy, stopped or stopping) ` +
            `and no launch template configured`,
        );
      }
      started.push(...(await this.startInstances(toStart)));
      if (toLaunch > 0 && launch) {
        const launched = await this.launch(toLaunch, launch);
        started.push(...launched); // first: should a claim below fail, the rollback stops them
        for (const id of launched) {
          taken.push(id);
          // A fresh id: nobody else can hold it, so the insert cannot lose.
          await this.claim(id);
        }
      }
      const { ready, failed } = await this.waitUntilReady(started);
      for (const id of failed.keys()) {
        this.failedUntil.set(id, this.clock.now().getTime() + this.options.failedRetryMs);
      }
      if (failed.size > 0) {
        const reasons = [...failed].map(([id, reason]) => `${id} ${reason}`).join('; ');
        throw new Error(`EC2 node provider could not start ${count} node(s): ${reasons}`);
      }
      if (adopted.length > 0) {
        this.logger.log(`took running instance(s) ${adopted.map((n) => n.id).join(', ')}`);
      }
      if (firstBoot) await this.stopRestAtFirstBoot(free, taken);
      return sortById([...adopted, ...ready]);
    } catch (error) {
      throw await this.rollBack(started, taken, error);
    }
  }

  /** Already terminated pool instances count as stopped; ids outside the pool are refused, nothing is stopped. */
  async stop(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const toStop = await this.stoppablePoolInstances(ids);
    await this.stopWhenPossible(toStop);
  }

  /** Pool instances that are not being terminated; unbounded (Infinity) when a launch template can add more. */
  async capacity(): Promise<number> {
    if (this.options.launch) return Number.POSITIVE_INFINITY;
    const usable = await this.instances.inStates(['pending', 'running', 'stopping', 'stopped']);
    return usable.length;
  }

  /**
   * One reconciler pass: stops tagged instances that have been running (or pending) outside `assigned` for
   * longer than strayGraceMs. Never touches an instance in `assigned`, nor one claimed by an app instance
   * (it is being started or adopted); claims each stray before stopping it, so no grow takes it meanwhile.
   */
  async reconcile(assigned: ReadonlySet<string>): Promise<ReconcileReport> {
    const now = this.clock.now();
    const up = await this.instances.inStates(['pending', 'running']);
    const live = await this.claims.live(now);
    const outside = up.filter((instance) => !assigned.has(instance.id));
    for (const id of this.outsideSince.keys()) {
      if (!outside.some((instance) => instance.id === id)) this.outsideSince.delete(id);
    }
    const report: ReconcileReport = { stopped: [], waiting: new Map(), claimed: [] };
    const due: PoolInstance[] = [];
    for (const instance of outside) {
      if (live.has(instance.id)) {
        report.claimed.push(instance.id);
        // The grace period counts from when nobody is bringing it up any more.
        this.outsideSince.delete(instance.id);
        continue;
      }
      const since = this.outsideSince.get(instance.id) ?? now.getTime();
      this.outsideSince.set(instance.id, since);
      const outsideFor = now.getTime() - since;
      if (outsideFor >= this.options.strayGraceMs) due.push(instance);
      else report.waiting.set(instance.id, outsideFor);
    }
    const claimed: PoolInstance[] = [];
    for (const instance of due) {
      if (await this.claim(instance.id)) claimed.push(instance);
    }
    if (claimed.length > 0) {
      await this.stopWhenPossible(claimed);
      await this.claims.release(
        claimed.map((instance) => instance.id),
        this.owner,
      );
      for (const instance of claimed) {
        const outsideFor = now.getTime() - (this.outsideSince.get(instance.id) ?? now.getTime());
        this.logger.warn(
          `stopped ${instance.id}: ${instance.state} outside the assignment for ` +
            `${Math.round(outsideFor / 1000)} s (grace ${this.options.strayGraceMs / 1000} s)`,
        );
        this.outsideSince.delete(instance.id);
        report.stopped.push(instance.id);
      }
    }
    return report;
  }

  /** Pool instances that are not members, not claimed by another app instance, not recently failed. */
  private async freeInstances(): Promise<PoolInstance[]> {
    const [all, live] = await Promise.all([
      this.instances.inStates(['running', 'stopping', 'stopped']),
      this.claims.live(this.clock.now()),
    ]);
    const now = this.clock.now().getTime();
    for (const [id, until] of this.failedUntil) if (until <= now) this.failedUntil.delete(id);
    return all.filter(
      (instance) =>
        !this.members.has(instance.id) &&
        !this.failedUntil.has(instance.id) &&
        (live.get(instance.id) ?? this.owner) === this.owner,
    );
  }

  private claim(id: string): Promise<boolean> {
    return this.claims.claim(id, this.owner, this.clock.now(), this.options.claimTtlMs);
  }

  private async answers(url: string): Promise<boolean> {
    try {
      return await this.probe(url);
    } catch {
      return false;
    }
  }

  /** Waits for `stopping` ones to be stopped (StartInstances refuses them), then starts them all. */
  private async startInstances(instances: PoolInstance[]): Promise<string[]> {
    if (instances.length === 0) return [];
    const stopping = instances.filter((i) => i.state === 'stopping').map((i) => i.id);
    if (stopping.length > 0) {
      await waitUntilStopped(this.instances, stopping, this.clock, {
        pollIntervalMs: this.options.pollIntervalMs,
        timeoutMs: this.options.startTimeoutMs,
      }).catch((error: Error) => {
        throw new Error(
          `EC2 node provider could not start ${stopping.join(', ')}: ${error.message}`,
        );
      });
    }
    const ids = instances.map((instance) => instance.id);
    await ec2Call(
      `StartInstances for ${ids.join(', ')}`,
      () => this.ec2.send(new StartInstancesCommand({ InstanceIds: ids })),
      this.retry,
    );
    return ids;
  }

  /**
   * At first boot no pool exists, so a running pool instance that nobody claimed and that was not taken is
   * billed for nothing: stop it now rather than after the reconciler's grace period. Pending ones are left
   * to the reconciler (stopping them means waiting for `running`, and the boot should not wait for that).
   */
  private async stopRestAtFirstBoot(free: PoolInstance[], taken: string[]): Promise<void> {
    const rest = free.filter((i) => i.state === 'running' && !taken.includes(i.id));
    const claimed: PoolInstance[] = [];
    for (const instance of rest) if (await this.claim(instance.id)) claimed.push(instance);
    if (claimed.length === 0) return;
    const ids = claimed.map((instance) => instance.id);
    try {
      await this.stopWhenPossible(claimed);
      this.logger.log(`first boot: stopped running instance(s) beyond the initial size: ${ids}`);
    } catch (error) {
      // The pool is up; the reconciler stops these later.
      this.logger.warn(`first boot: could not stop ${ids}: ${errorText(error)}`);
    }
    await this.claims.release(ids, this.owner);
  }

  private async launch(
    count: number,
    { template, tag }: NonNullable<ResolvedEc2Options['launch']>,
  ): Promise<string[]> {
    const what = `RunInstances of ${count} from launch template ${template.id ?? template.name}`;
    const launched = await ec2Call(
      what,
      () =>
        this.ec2.send(
          new RunInstancesCommand({
            MinCount: count,
            MaxCount: count,
            LaunchTemplate: {
              ...(template.id
                ? { LaunchTemplateId: template.id }
                : { LaunchTemplateName: template.name }),
              ...(template.version ? { Version: template.version } : {}),
            },
            // The pool tag is how list() and later start() calls find these instances again.
            TagSpecifications: [
              { ResourceType: 'instance', Tags: [{ Key: tag.key, Value: tag.value }] },
            ],
          }),
        ),
      this.retry,
    );
    return (launched.Instances ?? []).flatMap((instance) =>
      instance.InstanceId ? [instance.InstanceId] : [],
    );
  }

  private async waitUntilReady(
    ids: string[],
  ): Promise<{ ready: NodeEndpoint[]; failed: Map<string, string> }> {
    if (ids.length === 0) return { ready: [], failed: new Map() };
    const { pollIntervalMs, startTimeoutMs, healthTimeoutMs } = this.options;
    const running = await waitUntilRunning(this.instances, ids, this.clock, {
      pollIntervalMs,
      timeoutMs: startTimeoutMs,
    });
    const urls = new Map([...running.ready].map(([id, ip]) => [id, this.endpoint(id, ip).url]));
    const healthy = await waitUntilHealthy(urls, this.probe, this.clock, {
      pollIntervalMs,
      timeoutMs: healthTimeoutMs,
    });
    const ready = [...healthy.ready].map(([id, url]) => ({ id, url }));
    return { ready, failed: new Map([...running.failed, ...healthy.failed]) };
  }

  /**
   * Stops what this start() call started and frees its claims; running instances it only adopted are left
   * running (as it found them: the next grow takes them, or the reconciler stops them). The returned error
   * names the original failure and any rollback failure. An instance the rollback could not stop keeps its
   * claim until it runs out; then the reconciler stops it.
   */
  private async rollBack(started: string[], taken: string[], cause: unknown): Promise<Error> {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    if (started.length === 0) {
      await this.claims.release(taken, this.owner).catch(() => undefined);
      return error;
    }
    try {
      await this.stopWhenPossible(await this.instances.byIds(started));
      await this.claims.release(taken, this.owner);
      return new Error(`${error.message}; stopped ${started.join(', ')} again`, { cause });
    } catch (stopError) {
      return new Error(`${error.message}; rolling back also failed: ${errorText(stopError)}`, {
        cause,
      });
    }
  }

  /**
   * Stops these instances. EC2 refuses to stop a `pending` instance (IncorrectInstanceState), so those are
   * polled until they are running and stopped then, within startTimeoutMs; terminated ones need nothing.
   */
  private async stopWhenPossible(known: PoolInstance[]): Promise<void> {
    const deadline = this.clock.now().getTime() + this.options.startTimeoutMs;
    let states = known;
    for (;;) {
      // Stopped and stopping ones are sent too: StopInstances is a no-op for them, and right after a
      // StartInstances a describe may still report the old `stopped` (EC2 is eventually consistent).
      const running = states.filter((i) => STOPPABLE.has(i.state)).map((i) => i.id);
      let waiting = states.filter((i) => i.state === 'pending').map((i) => i.id);
      if (running.length > 0) {
        try {
          await ec2Call(
            `StopInstances for ${running.join(', ')}`,
            () => this.ec2.send(new StopInstancesCommand({ InstanceIds: running })),
            this.retry,
          );
        } catch (error) {
          // One of them went back to pending or so between describe and stop: look again.
          if (awsErrorName(error) !== 'IncorrectInstanceState') throw error;
          waiting = [...waiting, ...running];
        }
      }
      if (waiting.length === 0) return;
      if (this.clock.now().getTime() >= deadline) {
        throw new Error(
          `could not stop ${waiting.join(', ')}: still pending after ${this.options.startTimeoutMs} ms`,
        );
      }
      await this.clock.sleep(this.options.pollIntervalMs);
      states = await this.instances.byIds(waiting);
    }
  }

  /** Never stop an instance outside the pool (e.g. the app's own instance, given by mistake). */
  private async stoppablePoolInstances(ids: string[]): Promise<PoolInstance[]> {
    const pool = await this.instances.inStates([...ALL_STATES]);
    const outside = ids.filter((id) => !pool.some((instance) => instance.id === id));
    if (outside.length > 0) {
      throw new Error(
        `EC2 node provider refuses to stop ${outside.join(', ')}: not an instance ${describePool(this.options)}`,
      );
    }
    return pool.filter((instance) => ids.includes(instance.id));
  }

  private endpoint(id: string, privateIp: string): NodeEndpoint {
    return { id, url: `http://${privateIp}:${this.options.port}` };
  }
}

const ALL_STATES = [
  'pending',
  'running',
  'shutting-down',
  'stopped',
  'stopping',
  'terminated',
] as const;

const STOPPABLE = new Set<string>(['running', 'stopping', 'stopped']);

function sortById(nodes: NodeEndpoint[]): NodeEndpoint[] {
  return [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
