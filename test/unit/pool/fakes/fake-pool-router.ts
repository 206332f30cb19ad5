import { createAllocator } from '../../../../src/pool/routing/allocators';
import { partition } from '../../../../src/protocol/hash-ring';
import { PoolRouter, RoutedNode } from '../../../../src/pool/routing/pool-router.service';
import type { PoolState } from '../../../../src/pool/routing/pool-state';
import { NodeLeases } from '../../../../src/pool/routing/node-leases';
import { FakeNodeClient } from './fake-node.client';

/** The part of PoolRouter that PoolCacheService and NodeFailureService use. */
export type RouterCalls = Pick<
  PoolRouter,
  | 'epoch'
  | 'route'
  | 'owner'
  | 'node'
  | 'nodes'
  | 'previousOwner'
  | 'reload'
  | 'refresh'
  | 'current'
  | 'observeEpoch'
  | 'isQuarantined'
  | 'serving'
  | 'suspect'
>;

interface View {
  epoch: number;
  members: string[];
  owners: string[];
}

/**
 * A router over fake node clients. `assign` sets what it routes by; `onNextReload` is the newer
 * assignment another instance saved, adopted by the next reload() (as the real router would).
 */
export class FakePoolRouter implements RouterCalls {
  private view: View = { epoch: 0, members: [], owners: [] };
  private previousOwners: string[] | null = null;
  private pending: View | null = null;
  private readonly clients = new Map<string, FakeNodeClient>();
  reloads = 0;
  refreshes = 0;
  readonly leases = new NodeLeases();
  /** Runs on refresh(), before it adopts what onNextReload set: another instance's save. */
  onRefresh: (() => void) | null = null;
  readonly observed: (number | undefined)[] = [];

  get epoch(): number {
    return this.view.epoch;
  }

  get current(): PoolState | null {
    const { epoch, members, owners } = this.view;
    return {
      epoch,
      owners,
      nodes: members.map((id) => ({ id, url: this.client(id).url })),
      previous: null,
      quarantined: [...this.quarantined],
    };
  }

  /** The fake client of node `id` (created on first use, also for nodes that left). */
  client(id: string): FakeNodeClient {
    let client = this.clients.get(id);
    if (!client) {
      client = new FakeNodeClient(`http://${id}.invalid:5001`);
      this.clients.set(id, client);
    }
    return client;
  }

  assign(epoch: number, members: string[], owners = balanced(members)): this {
    this.view = { epoch, members, owners };
    for (const id of members) this.client(id);
    return this;
  }

  /** Routes by `members` from the next reload() on; the current owners become the previous ones. */
  onNextReload(epoch: number, members: string[], owners = balanced(members)): this {
    this.pending = { epoch, members, owners };
    return this;
  }

  withPrevious(owners: string[]): this {
    this.previousOwners = owners;
    for (const id of owners) this.client(id);
    return this;
  }

  readonly quarantined = new Set<string>();
  readonly suspected = new Set<string>();

  route(key: string): { region: number; node: RoutedNode | null } {
    const { region, node } = this.owner(key);
    return { region, node: node && this.serving(node.id) ? node : null };
  }

  owner(key: string): { region: number; node: RoutedNode | null } {
    const region = partition(key);
    const owner = this.view.owners[region];
    if (!owner || this.quarantined.has(owner)) return { region, node: null };
    return { region, node: this.node(owner) };
  }

  isQuarantined(id: string): boolean {
    return this.quarantined.has(id);
  }

  serving(id: string): boolean {
    return !this.quarantined.has(id) && !this.suspected.has(id);
  }

  suspect(id: string, suspected: boolean): void {
    if (suspected) this.suspected.add(id);
    else this.suspected.delete(id);
  }

  node(id: string): RoutedNode | null {
    return this.view.members.includes(id) ? this.client(id).routed(id) : null;
  }

  nodes(): RoutedNode[] {
    return this.view.members.map((id) => this.client(id).routed(id));
  }

  previousOwner(region: number): RoutedNode | null {
    const id = this.previousOwners?.[region];
    if (!id || id === this.view.owners[region]) return null;
    return this.client(id).routed(id);
  }

  async reload(): Promise<void> {
    this.reloads++;
    if (!this.pending) return;
    this.previousOwners = this.view.owners;
    this.assign(this.pending.epoch, this.pending.members, this.pending.owners);
    this.pending = null;
  }

  async refresh(): Promise<void> {
    this.refreshes++;
    this.onRefresh?.();
    const reloads = this.reloads;
    await this.reload();
    this.reloads = reloads;
  }

  observeEpoch(nodeEpoch: number | undefined): void {
    this.observed.push(nodeEpoch);
  }
}

export function balanced(members: string[]): string[] {
  return members.length === 0 ? [] : createAllocator('balanced').allocate(null, members);
}

/** Every region owned by `id`. */
export function allTo(id: string): string[] {
  return Array.from({ length: 16 }, () => id);
}
