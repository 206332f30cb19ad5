import { ConflictException, Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Allocator } from './allocators';
import { movedRegions, regionsOf } from './assignment';
import { NODE_PROVIDER, NodeEndpoint, NodeProvider } from './node-provider.port';
import { POOL_ALLOCATOR } from './pool.tokens';
import { NodeSetup } from './node-setup.service';
import { POOL_STATE_STORE, PoolState, PoolStateStore } from './pool-state';
import { PoolRouter } from './pool-router.service';
import { ResizeLock } from './resize-lock';
import { PoolEvents } from './pool-events';

export interface ResizeProgress {
  what: string;
  step: string;
  startedAt: string;
}

/**
 * Grows and shrinks the pool, and repairs it when a node dies. One change at a time (the
 * rebalance lock). Every change follows the same path:
 *
 *   new nodes started and healthy → next assignment (epoch + 1) saved with compare-and-save
 *   → ownership pushed (first every node gives up what it loses, then takes what it gains, so no
 *   region ever has two serving owners) → front-ends told → old owners stream moved regions to
 *   the new ones (put-if-newer) and drop them → removed nodes stopped.
 *
 * Failure policy: before the save nothing is changed except started nodes, which are stopped
 * again (roll back). From the save on, the new assignment is the truth and the rest rolls forward:
 * a failed push or transfer costs cache misses, never a wrong answer, because a node serves only
 * regions it owns at the current epoch and drops leftovers of a region when it gains it.
 */
@Injectable()
export class ResizeService {
  private readonly logger = new Logger(ResizeService.name);
  private readonly lock = new ResizeLock();
  private step: ResizeProgress | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly router: PoolRouter,
    private readonly setup: NodeSetup,
    private readonly events: PoolEvents,
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    @Inject(POOL_STATE_STORE) private readonly store: PoolStateStore,
    @Inject(POOL_ALLOCATOR) private readonly allocator: Allocator,
  ) {}

  size(): number {
    return this.router.current?.nodes.length ?? 0;
  }

  isResizing(): boolean {
    return this.lock.busy;
  }

  progress(): ResizeProgress | null {
    return this.step;
  }

  /**
   * Resize to `target` nodes (clamped by config 1..8). Rejects with 409 while another change runs.
   * A singleton job passes its fencing token: the save is refused once its lease is gone (null:
   * already gone).
   */
  async resizeTo(target: number, reason: string, fencingToken?: number | null): Promise<PoolState> {
    if (fencingToken === null) throw new ConflictException('not the leader: resize refused');
    const { min, max } = this.config.pool;
    if (!Number.isInteger(target) || target < min || target > max) {
      throw new ConflictException(`pool size must be an integer in ${min}..${max} (got ${target})`);
    }
    return this.lock.run(`resize to ${target}: ${reason}`, async () => {
      const started = Date.now();
      const prev = await this.freshState();
      const n = prev.nodes.length;
      const direction = target > n ? 'grow' : 'shrink';
      if (target === n) return prev;
      try {
        const next =
          target > n
            ? await this.grow(prev, target - n, fencingToken)
            : await this.switchTo(
                prev,
                prev.nodes.slice(0, target),
                prev.nodes.slice(target),
                new Set(),
                fencingToken,
              );
        this.events.resized(direction, 'ok', (Date.now() - started) / 1000);
        this.logger.log(`resized ${n} → ${target} (${reason}) in ${Date.now() - started} ms`);
        return next;
      } catch (err) {
        this.events.resized(direction, 'failed', (Date.now() - started) / 1000);
        throw err;
      } finally {
        this.step = null;
      }
    });
  }

  /**
   * Takes a dead node out of the assignment; its regions go to the others and are refilled from
   * storage. Waits for a running resize to finish first (a repair is never refused).
   */
  async removeFailed(id: string, why: string): Promise<void> {
    for (;;) {
      const state = this.router.current;
      if (!state || !state.nodes.some((n) => n.id === id)) return;
      if (!this.lock.busy) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.lock.run(`repair: remove ${id}`, async () => {
      const prev = await this.freshState();
      if (!prev.nodes.some((n) => n.id === id)) return;
      this.logger.warn(`removing node ${id} from the pool: ${why}`);
      let survivors = prev.nodes.filter((n) => n.id !== id);
      if (survivors.length < this.config.pool.min) {
        survivors = [
          ...survivors,
          ...(await this.startNodes(prev, this.config.pool.min - survivors.length)),
        ];
      }
      try {
        // Known dead: told nothing, asked for nothing (a hung node would cost a timeout each).
        const dead = prev.nodes.filter((n) => n.id === id);
        await this.switchTo(prev, survivors, dead, new Set([id]));
      } finally {
        this.step = null;
      }
    });
  }

  /** Pool start: adopt the stored pool if its nodes are up, else rebuild it (see PoolBootstrap). */
  runExclusive<T>(what: string, work: () => Promise<T>): Promise<T> {
    return this.lock.run(what, work);
  }

  private async grow(prev: PoolState, count: number, fencingToken?: number): Promise<PoolState> {
    const started = await this.startNodes(prev, count);
    return this.switchTo(prev, [...prev.nodes, ...started], [], new Set(), fencingToken);
  }

  /** Starts nodes and prepares them (empty, configured, owning nothing yet); rolls back on failure. */
  async startNodes(prev: PoolState | null, count: number): Promise<NodeEndpoint[]> {
    this.setStep(`starting ${count} node(s)`);
    this.provider.adopt?.(prev?.nodes.map((n) => n.id) ?? []);
    const started = await this.provider.start(count);
    try {
      await Promise.all(started.map((node) => this.setup.prepare(node, prev?.epoch ?? 0)));
      return started;
    } catch (err) {
      await this.provider.stop(started.map((n) => n.id));
      throw err;
    }
  }

  /** From the compare-and-save on, this rolls forward (see the class comment). */
  async switchTo(
    prev: PoolState | null,
    nodes: NodeEndpoint[],
    removed: NodeEndpoint[],
    /** Nodes known dead: not told anything, not asked to send anything. */
    dead: ReadonlySet<string> = new Set(),
    /** The leader lease epoch of a singleton job: checked by the save (see PoolStateStore). */
    fencingToken?: number,
  ): Promise<PoolState> {
    const owners = this.allocator.allocate(
      prev?.owners ?? null,
      nodes.map((n) => n.id),
    );
    const next: PoolState = {
      epoch: (prev?.epoch ?? 0) + 1,
      owners,
      nodes,
      previous: prev ? { owners: prev.owners, nodes: prev.nodes } : null,
    };
    this.setStep(`saving assignment epoch ${next.epoch}`);
    if (!(await this.store.compareAndSave(prev?.epoch ?? 0, next, fencingToken))) {
      await this.provider.stop(
        nodes.filter((n) => !prev?.nodes.some((p) => p.id === n.id)).map((n) => n.id),
      );
      await this.router.reload();
      throw new ConflictException(
        fencingToken === undefined
          ? 'another app instance changed the pool at the same time; try again'
          : 'another app instance changed the pool, or this one lost the leader lease',
      );
    }
    this.router.adopt(next);

    this.setStep(`pushing ownership of epoch ${next.epoch}`);
    const everyone = [...nodes, ...removed];
    const reachable = everyone.filter((n) => !dead.has(n.id));
    const unreachable = await this.setup.pushOwnership(reachable, prev, next);
    this.events.assignmentChanged(next);
    // A member that missed the new ownership may still serve what moved: it leaves the pool once
    // this change is done (removeFailed waits for the lock).
    for (const id of unreachable.filter((id) => nodes.some((n) => n.id === id))) {
      void this.removeFailed(id, 'did not accept the new ownership').catch((err: Error) =>
        this.logger.error(`could not remove ${id}: ${err.message}`),
      );
    }

    if (prev) {
      this.setStep(`moving regions to their new owners`);
      await this.setup.moveRegions(prev, next, everyone, new Set([...dead, ...unreachable]));
    }
    if (removed.length > 0) {
      this.setStep(`stopping ${removed.length} node(s)`);
      await this.provider.stop(removed.map((n) => n.id));
    }
    const moved = prev ? movedRegions(prev, next).length : 16;
    const counts = nodes.map((n) => `${n.id}:${regionsOf(next, n.id).length}`).join(' ');
    this.logger.log(
      `epoch ${next.epoch}: ${nodes.length} node(s), ${moved} region(s) changed owner [${counts}]`,
    );
    return next;
  }

  private async freshState(): Promise<PoolState> {
    await this.router.reload();
    const state = this.router.current;
    if (!state) throw new ConflictException('the pool has not started yet');
    return state;
  }

  private setStep(step: string): void {
    this.step = { what: this.lock.description ?? '', step, startedAt: new Date().toISOString() };
    this.logger.log(step);
  }
}
