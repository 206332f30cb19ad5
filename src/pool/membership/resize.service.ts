import { ConflictException, Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Allocator } from '../routing/allocators';
import { movedRegions, regionsOf } from '../routing/assignment';
import { NODE_PROVIDER, NodeEndpoint, NodeProvider } from '../providers/node-provider.port';
import { POOL_ALLOCATOR } from '../pool.tokens';
import { NodeSetup } from './node-setup.service';
import { POOL_STATE_STORE, PoolState, PoolStateStore } from '../routing/pool-state';
import { PoolRouter } from '../routing/pool-router.service';
import { ResizeLock } from './resize-lock';
import { PoolEvents } from '../pool-events';

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

  /** Shutdown: no new resize from now on; resolves when the running one has finished. */
  drain(): Promise<void> {
    return this.lock.drain();
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
      if (target === n && (prev.target ?? n) === n) return prev;
      if (target === n) return this.switchTo(prev, prev.nodes, [], { fencingToken, target });
      try {
        const next =
          target > n
            ? await this.grow(prev, target - n, fencingToken, target)
            : await this.switchTo(prev, prev.nodes.slice(0, target), prev.nodes.slice(target), {
                fencingToken,
                target,
              });
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
   * Takes a dead node out of the assignment, in the same change as its replacement (membership.
   * replace; always when the pool would fall below its minimum): the replacement takes over its
   * regions, and the dead node is stopped only after that, once the replacement serves. When no
   * replacement starts, its regions go to the others. Regions are refilled from storage. Waits for
   * a running resize to finish first (a repair is never refused).
   * Resolves to the replacement's id, or null when none was started.
   */
  async removeFailed(id: string, why: string, fencingToken?: number): Promise<string | null> {
    for (;;) {
      const state = this.router.current;
      if (!state || !state.nodes.some((n) => n.id === id)) return null;
      if (!this.lock.busy) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.lock.run(`repair: remove ${id}`, async () => {
      const prev = await this.freshState();
      if (!prev.nodes.some((n) => n.id === id)) return null;
      this.logger.warn(`removing node ${id} from the pool: ${why}`);
      const survivors = prev.nodes.filter((n) => n.id !== id);
      const { min, max } = this.config.pool;
      const target = Math.min(max, Math.max(min, prev.target ?? prev.nodes.length));
      const wanted = this.config.membership.replace ? target : min;
      let replacements: NodeEndpoint[] = [];
      try {
        if (survivors.length < wanted) {
          try {
            replacements = await this.startNodes(prev, wanted - survivors.length);
          } catch (err) {
            // Still remove the dead node; the shortfall is made up later (see MembershipService).
            if (survivors.length >= min) {
              this.logger.warn(`no replacement for ${id} yet: ${(err as Error).message}`);
            } else throw err;
          }
        }
        // Known dead: told nothing, asked for nothing (a hung node would cost a timeout each).
        const dead = prev.nodes.filter((n) => n.id === id);
        await this.switchTo(prev, [...survivors, ...replacements], dead, {
          dead: new Set([id]),
          fencingToken,
          target,
        });
        return replacements[0]?.id ?? null;
      } finally {
        this.step = null;
      }
    });
  }

  /**
   * A change of membership that moves no region (quarantine, rejoin): `change` gets the current
   * state and returns the next one (its epoch and previous are set here) or null for no change.
   * Waits for a running resize; saved with compare-and-save (tried again on the state another
   * instance saved meanwhile: `change` decides afresh), adopted, and announced to peers.
   */
  async changeMembership(
    what: string,
    change: (state: PoolState) => Promise<Omit<PoolState, 'epoch' | 'previous'> | null>,
  ): Promise<PoolState | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.changeMembershipOnce(what, change);
      } catch (err) {
        if (!(err instanceof ConflictException) || attempt === 3) throw err;
      }
    }
  }

  private async changeMembershipOnce(
    what: string,
    change: (state: PoolState) => Promise<Omit<PoolState, 'epoch' | 'previous'> | null>,
  ): Promise<PoolState | null> {
    while (this.lock.busy) await new Promise((resolve) => setTimeout(resolve, 50));
    return this.lock.run(what, async () => {
      const prev = await this.freshState();
      const changed = await change(prev);
      if (!changed) return null;
      const next: PoolState = { ...changed, epoch: prev.epoch + 1, previous: prev.previous };
      if (next.quarantined?.length === 0) delete next.quarantined;
      if (!(await this.store.compareAndSave(prev.epoch, next))) {
        await this.router.reload();
        throw new ConflictException('another app instance changed the pool at the same time');
      }
      this.router.adopt(next);
      // Serving members keep their regions and learn the epoch, so an instance starting now finds
      // them current (PoolBootstrap). Best effort: one that misses it is only behind.
      await Promise.allSettled(
        next.nodes
          .filter((n) => !next.quarantined?.includes(n.id))
          .map((n) =>
            this.router.node(n.id)?.client.setOwnership(next.epoch, regionsOf(next, n.id)),
          ),
      );
      this.events.assignmentChanged(next);
      return next;
    });
  }

  /** Pool start: adopt the stored pool if its nodes are up, else rebuild it (see PoolBootstrap). */
  runExclusive<T>(what: string, work: () => Promise<T>): Promise<T> {
    return this.lock.run(what, work);
  }

  private async grow(
    prev: PoolState,
    count: number,
    fencingToken: number | undefined,
    target: number,
  ): Promise<PoolState> {
    const started = await this.startNodes(prev, count);
    return this.switchTo(prev, [...prev.nodes, ...started], [], { fencingToken, target });
  }

  /** Starts nodes and prepares them (empty, configured, owning nothing yet); rolls back on failure. */
  async startNodes(
    prev: PoolState | null,
    count: number,
    /** Ids the provider must not hand out (default: every member, dead ones included). */
    reserved: string[] = prev?.nodes.map((n) => n.id) ?? [],
  ): Promise<NodeEndpoint[]> {
    this.setStep(`starting ${count} node(s)`);
    this.provider.adopt?.(reserved);
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
    options: {
      /** Nodes known dead: not told anything, not asked to send anything. */
      dead?: ReadonlySet<string>;
      /** The leader lease epoch of a singleton job: checked by the save (see PoolStateStore). */
      fencingToken?: number;
      /** The pool's target size from now on (default: unchanged, or the new size). */
      target?: number;
    } = {},
  ): Promise<PoolState> {
    const { fencingToken } = options;
    const owners = this.allocator.allocate(
      prev?.owners ?? null,
      nodes.map((n) => n.id),
    );
    // Quarantined members stay so (they rejoin empty, src/pool/membership/); like dead nodes they
    // are neither told nor asked to stream what they hold, which may be stale.
    const quarantined = (prev?.quarantined ?? []).filter((id) => nodes.some((n) => n.id === id));
    const dead = new Set([...(options.dead ?? []), ...(prev?.quarantined ?? [])]);
    const next: PoolState = {
      epoch: (prev?.epoch ?? 0) + 1,
      owners,
      nodes,
      previous: prev ? { owners: prev.owners, nodes: prev.nodes } : null,
      ...(quarantined.length > 0 ? { quarantined } : {}),
      target: options.target ?? prev?.target ?? nodes.length,
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
