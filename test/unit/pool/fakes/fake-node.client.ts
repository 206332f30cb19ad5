import {
  CacheGetResult,
  CacheInvalidateResult,
  CacheMarkResult,
  CacheNodeClient,
  CachePutOptions,
  CachePutResult,
  CacheNodeUnavailableError,
} from '../../../../src/pool/client/cache-node.client';
import { NodeClearResult, NodeHealth } from '../../../../src/protocol/cache-node.protocol';
import { RoutedNode } from '../../../../src/pool/routing/pool-router.service';

/** The part of CacheNodeClient the pool services call. */
export type NodeClientCalls = Pick<
  CacheNodeClient,
  'get' | 'put' | 'invalidate' | 'clear' | 'health' | 'close'
>;

export interface RecordedCall {
  method: 'get' | 'put' | 'invalidate' | 'markPending' | 'release' | 'clear' | 'health';
  key?: string;
  region?: number;
  epoch?: number;
  version?: number;
  lease?: string;
  body?: Buffer;
}

/**
 * A cache node that answers as scripted. Each `on*` handler decides an answer; by default the node
 * is empty (miss with a fresh lease), accepts fills and invalidations, and is healthy. `down()`
 * makes every call fail as an unreachable node does.
 */
export class FakeNodeClient implements NodeClientCalls {
  readonly calls: RecordedCall[] = [];
  closed = false;
  private unreachable = false;
  private leases = 0;
  nodeEpoch = 0;
  /** The process start the node reports; a test changes it to play a restart. */
  boot = 'boot-1';

  onGet: (key: string, region: number) => CacheGetResult = () => ({
    kind: 'miss',
    lease: `lease-${++this.leases}`,
    epoch: this.nodeEpoch,
  });
  /** How a fill is answered; a test may hold it open with a promise. */
  onPut: () => CachePutResult | Promise<CachePutResult> = () => ({
    kind: 'stored',
    epoch: this.nodeEpoch,
  });
  onInvalidate: (key: string, region: number) => CacheInvalidateResult = () => ({
    kind: 'invalidated',
    removed: false,
    epoch: this.nodeEpoch,
  });

  constructor(readonly url: string) {}

  down(): this {
    this.unreachable = true;
    return this;
  }

  up(): this {
    this.unreachable = false;
    return this;
  }

  callsOf(method: RecordedCall['method']): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async get(key: string, region: number, epoch?: number): Promise<CacheGetResult> {
    this.record({ method: 'get', key, region, epoch });
    return this.onGet(key, region);
  }

  async put(
    key: string,
    region: number,
    body: Buffer,
    options: CachePutOptions,
    epoch?: number,
  ): Promise<CachePutResult> {
    this.record({
      method: 'put',
      key,
      region,
      epoch,
      body,
      version: options.version,
      lease: options.lease,
    });
    return this.onPut();
  }

  async invalidate(
    key: string,
    region: number,
    version: number,
    epoch?: number,
  ): Promise<CacheInvalidateResult> {
    this.record({ method: 'invalidate', key, region, version, epoch });
    return this.onInvalidate(key, region);
  }

  async markPending(
    key: string,
    region: number,
    mark: { id: string; ms: number },
    epoch?: number,
  ): Promise<CacheMarkResult> {
    this.record({ method: 'markPending', key, region, epoch });
    const answer = this.onInvalidate(key, region);
    return answer.kind === 'not_owner' ? answer : { ...answer, kind: 'marked', ms: mark.ms };
  }

  async release(
    key: string,
    region: number,
    _id: string,
    version?: number,
  ): Promise<CacheInvalidateResult> {
    this.record({ method: 'release', key, region, version });
    return this.onInvalidate(key, region);
  }

  async clear(): Promise<NodeClearResult> {
    this.record({ method: 'clear' });
    return { entries: 0 };
  }

  async health(): Promise<NodeHealth> {
    this.record({ method: 'health' });
    return { status: 'ok', epoch: this.nodeEpoch, regions: [], nearLeaseMs: 3000, boot: this.boot };
  }

  close(): void {
    this.closed = true;
  }

  /** The routed node the router hands out for this client. */
  routed(id: string): RoutedNode {
    // The services only call NodeClientCalls; the cast stands in for the private fields.
    return { id, url: this.url, client: this as unknown as CacheNodeClient };
  }

  private record(call: RecordedCall): void {
    this.calls.push(call);
    if (this.unreachable) {
      throw new CacheNodeUnavailableError(this.url, new Error('connect ECONNREFUSED'));
    }
  }
}
