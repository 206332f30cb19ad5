import { NodeEndpoint } from '../../../../src/pool/providers/node-provider.port';
import { NodeSetup } from '../../../../src/pool/membership/node-setup.service';
import { PoolState } from '../../../../src/pool/routing/pool-state';

export type NodeSetupCalls = Pick<NodeSetup, 'prepare' | 'pushOwnership' | 'moveRegions'>;

/**
 * Records the node-side steps of a pool change instead of talking to nodes. `failPrepare` makes
 * prepare() fail for that node; `unreachableOnNextPush` is what the next pushOwnership() reports
 * as not told.
 */
export class FakeNodeSetup implements NodeSetupCalls {
  readonly prepared: { id: string; epoch: number }[] = [];
  readonly pushes: { nodes: string[]; prevEpoch: number | null; nextEpoch: number }[] = [];
  readonly moves: {
    prevEpoch: number;
    nextEpoch: number;
    nodes: string[];
    removed: string[];
    dead: string[];
  }[] = [];
  failPrepare: string | null = null;
  unreachableOnNextPush: string[] = [];
  /** Runs when ownership is pushed, to look at the world at that moment. */
  onPush: (() => void) | null = null;

  constructor(private readonly journal: string[] = []) {}

  async prepare(node: NodeEndpoint, epoch: number): Promise<void> {
    this.journal.push(`prepare ${node.id}`);
    if (node.id === this.failPrepare) throw new Error(`${node.id}: clear failed`);
    this.prepared.push({ id: node.id, epoch });
  }

  async pushOwnership(
    nodes: NodeEndpoint[],
    prev: PoolState | null,
    next: PoolState,
  ): Promise<string[]> {
    this.journal.push(`push ${next.epoch}`);
    this.onPush?.();
    this.pushes.push({
      nodes: nodes.map((n) => n.id),
      prevEpoch: prev?.epoch ?? null,
      nextEpoch: next.epoch,
    });
    const unreachable = this.unreachableOnNextPush;
    this.unreachableOnNextPush = [];
    return unreachable;
  }

  async moveRegions(
    prev: PoolState,
    next: PoolState,
    everyone: NodeEndpoint[],
    dead: ReadonlySet<string>,
  ): Promise<void> {
    this.journal.push(`move ${prev.epoch}→${next.epoch}`);
    const members = new Set(next.nodes.map((n) => n.id));
    this.moves.push({
      prevEpoch: prev.epoch,
      nextEpoch: next.epoch,
      nodes: everyone.filter((n) => members.has(n.id)).map((n) => n.id),
      removed: everyone.filter((n) => !members.has(n.id)).map((n) => n.id),
      dead: [...dead],
    });
  }
}
