import {
  DescribeInstancesCommand,
  EC2Client,
  Instance,
  InstanceStateName,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { LoggerService } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mockClient } from 'aws-sdk-client-mock';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createApp, listen } from '../../../../src/bootstrap';
import { loadConfig } from '../../../../src/config/config-loader';
import { PoolRouter } from '../../../../src/pool/routing/pool-router.service';
import { getNumNodes, uploadChecked } from '../../../support/checked-io';
import { ConsistencyChecker } from '../../../support/consistency-checker';
import { makePng } from '../../../support/images';
import { startLoad } from '../../../support/load';
import { jestWorker, testPortOffset } from '../../../support/ports';
import { spawnCacheNode, SpawnedCacheNode } from '../../../support/spawn-cache-node';

/*
 * kill -9 of one node under read load, with the EC2 provider: the whole replacement played out by the
 * real app (booted in this process, so aws-sdk-client-mock can stand in for EC2) on real cache-node
 * processes. Each "instance" is a node process on its own loopback address (127.0.0.x: all of
 * 127/8 is loopback on Linux) at the one pool port, which is exactly how the provider builds node
 * URLs (private IP + pool.ec2.port), so no test seam in the provider is needed.
 */
const TAG = { key: 'pixpool-role', value: 'cache-node' };
const SECRET = 'ec2-replacement-test-secret-padded-to-32-characters';
const START_TIMEOUT_MS = 20_000;
const PORT = 31_100 + testPortOffset() + jestWorker() * 10;
const KEYS = Array.from({ length: 40 }, (_, i) => `key-${i}`);

/** A stateful stand-in for the EC2 API: instance states, and a node process behind each running one. */
class FakeEc2 {
  readonly instances = new Map<string, { state: InstanceStateName; ip: string }>();
  readonly nodes = new Map<string, SpawnedCacheNode>();
  /** EC2 calls and what the test observed, in order. */
  readonly journal: string[] = [];

  add(id: string, ip: string, state: InstanceStateName): void {
    this.instances.set(id, { state, ip });
  }

  async boot(id: string): Promise<void> {
    const instance = this.instances.get(id)!;
    this.nodes.set(id, await spawnCacheNode({ host: instance.ip, port: PORT, secret: SECRET }));
    instance.state = 'running';
  }

  describe(input: DescribeInstancesCommand['input']): Instance[] {
    const states = input.Filters?.find((f) => f.Name === 'instance-state-name')?.Values;
    const tag = input.Filters?.find((f) => f.Name === `tag:${TAG.key}`)?.Values;
    if (tag) expect(tag).toEqual([TAG.value]);
    return [...this.instances]
      .filter(([id]) => !input.InstanceIds || input.InstanceIds.includes(id))
      .filter(([, i]) => !states || states.includes(i.state))
      .map(([id, i]) => ({
        InstanceId: id,
        State: { Name: i.state },
        // EC2 keeps a VPC instance's private IP while it is stopped.
        PrivateIpAddress: i.ip,
        Tags: [{ Key: TAG.key, Value: TAG.value }],
      }));
  }
}

/** The app's log, kept for the failure message instead of printed. */
class KeptLog implements LoggerService {
  readonly lines: string[] = [];
  log = (message: unknown, context?: string) => this.keep('log', message, context);
  warn = (message: unknown, context?: string) => this.keep('warn', message, context);
  error = (message: unknown, context?: string) => this.keep('error', message, context);
  tail(): string {
    return this.lines.slice(-40).join('\n');
  }
  private keep(level: string, message: unknown, context?: string): void {
    this.lines.push(`${level} [${context ?? ''}] ${String(message)}`);
  }
}

describe('kill -9 of a node on EC2 (mocked) under read load', () => {
  const ec2Mock = mockClient(EC2Client);
  const fake = new FakeEc2();
  const checker = new ConsistencyChecker();
  let app: NestExpressApplication;
  let url: string;
  let dir: string;
  const log = new KeptLog();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-ec2-replacement-'));
    fake.add('i-01', '127.0.0.11', 'pending');
    fake.add('i-02', '127.0.0.12', 'pending');
    fake.add('i-03', '127.0.0.13', 'pending');
    fake.add('i-04', '127.0.0.14', 'stopped');
    await Promise.all(['i-01', 'i-02', 'i-03'].map((id) => fake.boot(id)));

    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommand['input']) => ({
      Reservations: [{ Instances: fake.describe(input) }],
    }));
    ec2Mock.on(StartInstancesCommand).callsFake((input: StartInstancesCommand['input']) => {
      fake.journal.push(`start ${input.InstanceIds?.join(',')}`);
      for (const id of input.InstanceIds ?? []) {
        fake.instances.get(id)!.state = 'pending';
        // Running once its node listens (as an AMI whose node starts at boot).
        void fake
          .boot(id)
          .catch((err: Error) => fake.journal.push(`boot ${id} failed: ${err.message}`));
      }
      return { StartingInstances: [] };
    });
    ec2Mock.on(StopInstancesCommand).callsFake(async (input: StopInstancesCommand['input']) => {
      // What the app routes by when the stop is sent.
      const members = app.get(PoolRouter).current?.nodes.map((n) => n.id) ?? [];
      fake.journal.push(`stop ${input.InstanceIds?.join(',')} while members ${members.join(',')}`);
      for (const id of input.InstanceIds ?? []) {
        fake.instances.get(id)!.state = 'stopped';
        await fake.nodes.get(id)?.stop();
      }
      return { StoppingInstances: [] };
    });

    const config = loadConfig({
      overrides: {
        server: { host: '127.0.0.1', port: 0 },
        database: { driver: 'sqlite', file: path.join(dir, 'pixpool.sqlite') },
        storage: { driver: 'fs', dir: path.join(dir, 'blobs') },
        security: { nodeSecret: SECRET },
        pool: {
          provider: 'ec2',
          initial: 3,
          min: 1,
          max: 4,
          healthIntervalMs: 300,
          ec2: { port: PORT, startTimeoutMs: START_TIMEOUT_MS },
        },
        membership: { removeAfterMs: 2000 },
      },
    });
    app = await createApp(config);
    app.useLogger(log);
    url = await listen(app, config);
    for (const key of KEYS) {
      expect((await uploadChecked(checker, url, key, makePng(2000))).status).toBe(200);
    }
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await Promise.all([...fake.nodes.values()].map((node) => node.stop()));
    ec2Mock.restore();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts a stopped tagged instance, stops the dead one after, and no read fails', async () => {
    const router = app.get(PoolRouter);
    expect(router.current?.nodes.map((n) => n.id)).toEqual(['i-01', 'i-02', 'i-03']);
    expect(fake.journal).toEqual([]); // first boot adopted the running ones: nothing started or stopped

    const load = startLoad(() => url, checker, { readKeys: KEYS, writeKeys: [] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    fake.nodes.get('i-02')!.process.kill('SIGKILL');
    const killedAt = Date.now();

    const serving = async (): Promise<boolean> => {
      const ids = router.current?.nodes.map((n) => n.id) ?? [];
      if (ids.join() !== 'i-01,i-03,i-04') return false;
      const body = (await (await fetch(`${url}/api/manager/pool`)).json()) as {
        nodes: { health: { state: string } | null }[];
      };
      return body.nodes.length === 3 && body.nodes.every((n) => n.health?.state === 'serving');
    };
    while (!(await serving())) {
      if (Date.now() - killedAt > START_TIMEOUT_MS) {
        throw new Error(`not back to 3 serving nodes: ${fake.journal.join('; ')}\n${log.tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const backAfterMs = Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const report = await load.stop();

    expect(backAfterMs).toBeLessThan(START_TIMEOUT_MS);
    expect(await getNumNodes(url)).toBe(3);
    expect(ec2Mock.commandCalls(StartInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceIds: ['i-04'] },
    ]);
    expect(ec2Mock.commandCalls(StopInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceIds: ['i-02'] },
    ]);
    // The dead instance is stopped only once its replacement is in the assignment (and it is out).
    expect(fake.journal).toEqual(['start i-04', 'stop i-02 while members i-01,i-03,i-04']);
    expect(report.errors).toEqual([]);
    expect(report.staleReads).toEqual([]);
    expect(report.reads).toBeGreaterThan(50);
  }, 30_000);
});
