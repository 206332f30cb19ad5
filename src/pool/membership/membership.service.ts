import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { PROMETHEUS_REGISTRY } from '../../metrics/prometheus/prometheus-registry';
import { regionsOf } from '../routing/assignment';
import { NodeSetup } from './node-setup.service';
import { MembershipChange, PoolEvents } from '../pool-events';
import { PoolRouter } from '../routing/pool-router.service';
import { ResizeService } from './resize.service';

/*
 * What happens to a node that stops answering, and to the pool around it.
 *
 * Invariant: no front-end serves an image older than its row from a node that may have missed an
 * invalidation; the pool returns to its target size after a failure without an operator.
 *
 * States of a member (suspected is per instance; quarantined is in the stored assignment):
 *   serving → suspected: a request or probe failed. This instance reads its regions from storage
 *     and does not fill them; invalidations are still sent (other instances may read it). A probe
 *     that answers makes it serving again.
 *   → quarantined: quarantineAfterFailures probes failed in a row, or an invalidation or clear
 *     could not be delivered (decided by whichever instance saw it). Saved as a new epoch, adopted,
 *     pushed to peers: no front-end reads it, fills it, or invalidates in it, so an upload may be
 *     acknowledged without telling it. A resize neither tells it nor asks it to stream.
 *   → restarted (a probe answers with a new boot id, or at epoch 0 while the pool gives it
 *     regions: the process restarted on its address and forgot everything; it owns nothing until
 *     told, see src/cache-node/ownership.ts): quarantined like a node that missed an
 *     invalidation, unless it has been given this state's ownership since (a push at the state's
 *     epoch: gained empty, held for its lease), then rejoined as below.
 *   → rejoined (a probe answers again): before the state says "serving", the node is emptied
 *     (clear: entries, leases, tombstones) and given its regions again at the new epoch, so it
 *     starts them empty (gaining purges leftovers too). Whatever it missed is gone; reads refill
 *     from storage. No region moves, no resize.
 *   → removed: failing removeAfterMs with no success, by the leader only (a node one instance
 *     cannot reach is quarantined, not removed, by it). Removed in the same change that starts its
 *     replacement (ResizeService.removeFailed): the replacement takes its regions; the dead node is
 *     stopped last, after ownership is pushed and regions moved, i.e. once the replacement serves.
 *   → healed: when the pool is short of its target (a replacement that could not start), the
 *     leader grows it back on the next check.
 *
 * Crash at each step of a rejoin (emptying, then saving the state): before the save the node is
 * still quarantined in the stored state, so nobody reads it; the next probe retries the rejoin.
 * A front-end that has not yet adopted the quarantine epoch could still read the node. So an
 * upload whose invalidation could not be delivered is acknowledged only once every other instance
 * has adopted it: each peer answered the notify, or else two health intervals (each polls the
 * stored epoch every interval) and the longest lease the nodes grant (near copies held under the
 * old assignment are dead by then) have passed — NodeFailureService.quarantineNow,
 * PeerNotifier.caughtUp. Left open, by design (cached reads survive a database outage): an
 * instance cut off from both its peers and the database that still reaches the node may read it
 * from the pool (not near) until it reaches the database again.
 * Rejoin vs an upload that skipped the quarantined node (between the emptying and the save): the
 * node refuses fills from front-ends on an older epoch (src/cache-node/fill-fence.ts).
 */
const HEAL_BACKOFF_MS = 30_000;

@Injectable()
export class MembershipService {
  private readonly logger = new Logger('Membership');
  private readonly changes: Counter<'change'> | null;
  /** After a failed heal, the next waits (a provider out of capacity is not asked every probe). */
  private healAfter = 0;

  constructor(
    private readonly router: PoolRouter,
    private readonly resizer: ResizeService,
    private readonly setup: NodeSetup,
    private readonly events: PoolEvents,
    @Optional() @Inject(PROMETHEUS_REGISTRY) registry?: Registry | null,
  ) {
    this.changes = registry
      ? new Counter({
          name: 'pixpool_membership_changes_total',
          help: 'Nodes quarantined, rejoined, removed and replaced after failures',
          labelNames: ['change'],
          registers: [registry],
        })
      : null;
  }

  /**
   * Stops every front-end reading the node; resolves once saved (idempotent).
   *
   * `missedInvalidation`: the node has just missed an invalidation of a committed upload. Then a
   * new epoch is saved even when the node is already quarantined: a rejoin under way elsewhere
   * (its node emptied before this upload committed, its save still to come) must fail its
   * compare-and-save and empty the node again, or the node would serve again holding a copy
   * older than the upload, filled between that emptying and the rejoin.
   */
  async quarantine(id: string, why: string, missedInvalidation = false): Promise<void> {
    const next = await this.resizer.changeMembership(`quarantine ${id}`, async (state) => {
      if (!state.nodes.some((n) => n.id === id)) return null;
      if (state.quarantined?.includes(id)) return missedInvalidation ? { ...state } : null;
      return { ...state, quarantined: [...(state.quarantined ?? []), id] };
    });
    if (next) this.record({ change: 'quarantined', node: id, reason: why });
  }

  /**
   * The node restarted (NodeFailureService compares its answers with the pool): quarantine it,
   * unless it answers at the stored epoch, i.e. it has been given its regions since it started.
   */
  async restarted(id: string): Promise<void> {
    const next = await this.resizer.changeMembership(`restarted ${id}`, async (state) => {
      if (!state.nodes.some((n) => n.id === id) || state.quarantined?.includes(id)) return null;
      const told = await this.router
        .node(id)
        ?.client.health()
        .then((h) => h.epoch === state.epoch && h.epoch > 0)
        .catch(() => false);
      if (told) return null;
      return { ...state, quarantined: [...(state.quarantined ?? []), id] };
    });
    if (next) this.record({ change: 'quarantined', node: id, reason: 'restarted: it forgot all' });
  }

  /** Empties the node, then lets every front-end read it again (see above). */
  async rejoin(id: string): Promise<void> {
    const next = await this.resizer.changeMembership(`rejoin ${id}`, async (state) => {
      const node = state.nodes.find((n) => n.id === id);
      if (!node || !state.quarantined?.includes(id)) return null;
      const epoch = state.epoch + 1;
      await this.setup.prepare(node, epoch); // clear, settings, owning nothing
      await this.router.node(id)!.client.setOwnership(epoch, regionsOf(state, id));
      const quarantined = state.quarantined.filter((q) => q !== id);
      return { ...state, quarantined };
    });
    if (next) {
      this.router.suspect(id, false);
      this.record({ change: 'rejoined', node: id, reason: 'answers again; rejoined empty' });
    }
  }

  /** Removes a dead node and starts its replacement in one change (leader only). */
  async replace(id: string, why: string, fencingToken?: number): Promise<void> {
    const replacement = await this.resizer.removeFailed(id, why, fencingToken);
    this.router.suspect(id, false);
    this.record({ change: 'removed', node: id, reason: why });
    if (replacement) {
      this.record({ change: 'replaced', node: id, replacement, reason: why });
    }
  }

  /** Grows the pool back to its target when a failure left it short (leader only). */
  async heal(fencingToken?: number): Promise<void> {
    const state = this.router.current;
    if (!state || this.resizer.isResizing()) return;
    const target = state.target ?? state.nodes.length;
    if (state.nodes.length >= target) return;
    if (Date.now() < this.healAfter) return;
    const reason = `pool ${state.nodes.length} < target ${target} after a failure`;
    try {
      await this.resizer.resizeTo(target, `self-healing: ${reason}`, fencingToken);
    } catch (err) {
      this.healAfter = Date.now() + HEAL_BACKOFF_MS;
      throw err;
    }
    this.record({ change: 'replaced', node: null, reason });
  }

  private record(change: Omit<MembershipChange, 'at'>): void {
    const full: MembershipChange = { ...change, at: new Date().toISOString() };
    const more = full.replacement ? ` by ${full.replacement}` : '';
    this.logger.warn(`${full.change} ${full.node ?? ''}${more}: ${full.reason}`);
    this.changes?.inc({ change: full.change });
    this.events.membershipChanged(full);
  }
}
