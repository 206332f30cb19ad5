import { Logger } from '@nestjs/common';
import {
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { Clock } from '../clock.port';
import { HealthProbe, NodeEndpoint, NodeProvider } from '../node-provider.port';
import { errorText, ec2Call } from './ec2-aws-call';
import {
  describePool,
  Ec2NodeProviderOptions,
  resolveEc2Options,
  ResolvedEc2Options,
} from './ec2-node-provider.options';
import { waitUntilHealthy, waitUntilRunning } from './ec2-node-readiness';
import { Ec2PoolInstances } from './ec2-pool-instances';

/**
 * Cache nodes on a pool of pre-provisioned EC2 instances (one node on port `port` per instance), found by tag
 * and/or id list. Growing starts stopped pool instances (lowest ids first, so the choice is reproducible) and,
 * when none is left, launches from the launch template; shrinking stops instances.
 */
export class Ec2NodeProvider implements NodeProvider {
  readonly kind = 'ec2' as const;
  private readonly options: ResolvedEc2Options;
  private readonly instances: Ec2PoolInstances;
  private readonly logger = new Logger(Ec2NodeProvider.name);

  constructor(
    options: Ec2NodeProviderOptions,
    private readonly ec2: EC2Client,
    private readonly probe: HealthProbe,
    private readonly clock: Clock,
  ) {
    this.options = resolveEc2Options(options);
    this.instances = new Ec2PoolInstances(ec2, this.options);
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
    const stopped = await this.instances.inStates(['stopped']);
    const toStart = stopped.slice(0, count).map((instance) => instance.id);
    const toLaunch = count - toStart.length;
    const launch = this.options.launch;
    if (toLaunch > 0 && !launch) {
      throw new Error(
        `EC2 node provider cannot start ${count} node(s): no stopped instance ${describePool(this.options)} ` +
          `left and no launch template configured (${toStart.length} stopped found)`,
      );
    }
    const started: string[] = [];
    try {
      if (toStart.length > 0) {
        await ec2Call(`StartInstances for ${toStart.join(', ')}`, () =>
          this.ec2.send(new StartInstancesCommand({ InstanceIds: toStart })),
        );
        started.push(...toStart);
      }
      if (toLaunch > 0 && launch) started.push(...(await this.launch(toLaunch, launch)));
      const { ready, failed } = await this.waitUntilReady(started);
      if (failed.size > 0) {
        const reasons = [...failed].map(([id, reason]) => `${id} ${reason}`).join('; ');
        throw new Error(`EC2 node provider could not start ${count} node(s): ${reasons}`);
      }
      return sortById(ready);
    } catch (error) {
      throw await this.rollBack(started, error);
    }
  }

  /** Already terminated pool instances count as stopped; ids outside the pool are refused, nothing is stopped. */
  async stop(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const toStop = await this.stoppablePoolInstances(ids);
    if (toStop.length === 0) return;
    await ec2Call(`StopInstances for ${toStop.join(', ')}`, () =>
      this.ec2.send(new StopInstancesCommand({ InstanceIds: toStop })),
    );
  }

  /** Pool instances that are not being terminated; unbounded (Infinity) when a launch template can add more. */
  async capacity(): Promise<number> {
    if (this.options.launch) return Number.POSITIVE_INFINITY;
    const usable = await this.instances.inStates(['pending', 'running', 'stopping', 'stopped']);
    return usable.length;
  }

  private async launch(
    count: number,
    { template, tag }: NonNullable<ResolvedEc2Options['launch']>,
  ): Promise<string[]> {
    const what = `RunInstances of ${count} from launch template ${template.id ?? template.name}`;
    const launched = await ec2Call(what, () =>
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
    );
    return (launched.Instances ?? []).flatMap((instance) =>
      instance.InstanceId ? [instance.InstanceId] : [],
    );
  }

  private async waitUntilReady(
    ids: string[],
  ): Promise<{ ready: NodeEndpoint[]; failed: Map<string, string> }> {
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

  /** Stops what this start() call started; the returned error names the original failure and any rollback failure. */
  private async rollBack(started: string[], cause: unknown): Promise<Error> {
    if (started.length === 0) return cause instanceof Error ? cause : new Error(String(cause));
    const message = cause instanceof Error ? cause.message : String(cause);
    try {
      await ec2Call(`StopInstances for ${started.join(', ')}`, () =>
        this.ec2.send(new StopInstancesCommand({ InstanceIds: started })),
      );
      return new Error(`${message}; stopped ${started.join(', ')} again`, { cause });
    } catch (stopError) {
      return new Error(`${message}; rolling back also failed: ${errorText(stopError)}`, { cause });
    }
  }

  /** Never stop an instance outside the pool (e.g. the app's own instance, given by mistake). */
  private async stoppablePoolInstances(ids: string[]): Promise<string[]> {
    const pool = await this.instances.inStates([...ALL_STATES]);
    const outside = ids.filter((id) => !pool.some((instance) => instance.id === id));
    if (outside.length > 0) {
      throw new Error(
        `EC2 node provider refuses to stop ${outside.join(', ')}: not an instance ${describePool(this.options)}`,
      );
    }
    const gone = new Set(
      pool.filter((i) => i.state === 'terminated' || i.state === 'shutting-down').map((i) => i.id),
    );
    return ids.filter((id) => !gone.has(id));
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

function sortById(nodes: NodeEndpoint[]): NodeEndpoint[] {
  return [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
