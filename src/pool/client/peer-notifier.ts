import { Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import axios from 'axios';
import { AppConfig } from '../../config/app-config';
import { PoolEvents } from '../pool-events';
import { PoolState } from '../routing/pool-state';
import { PoolRouter } from '../routing/pool-router.service';

/**
 * Tells the other app instances (server.peers) that the assignment changed, through their
 * /api/notify, in group15's fields plus the epoch. Best effort: an instance that misses it still
 * learns from the stored epoch within one health interval, or from a node's "not owner".
 *
 * caughtUp(state) says when every other instance has surely adopted a state, or stopped serving
 * by the older ones: all peers answered its notify (a peer answers only once it routes by that
 * epoch or a later one), or, when one did not (or the peers are not configured but the database
 * is shared), once each has polled the stored epoch (two health intervals) and each near copy
 * held under an older assignment is dead: the longest lease the pool's nodes grant (a front-end
 * cut off from the database and from us may keep renewing at a node it still reaches, but it
 * serves near copies only a lease past its last epoch read, which was before the save:
 * src/near-cache/near-cache.service.ts, step C). A state this instance did not save itself is
 * notified again for the purpose. Uploads wait for this before they are acknowledged whenever a
 * node that may hold the old image was not told (quarantined, unreachable): until then another
 * instance could still read the old image from that node (src/pool/pool-cache.service.ts).
 */
@Injectable()
export class PeerNotifier implements OnModuleInit {
  private readonly logger = new Logger(PeerNotifier.name);
  /** epoch → resolves once every other instance has adopted it (the last few epochs only). */
  private readonly adopted = new Map<number, Promise<void>>();

  constructor(
    private readonly config: AppConfig,
    private readonly events: PoolEvents,
    @Optional() private readonly router?: PoolRouter | null,
  ) {}

  onModuleInit(): void {
    this.events.subscribe({
      assignmentChanged: (state) => this.track(state),
    });
  }

  /** Resolves once every other app instance has adopted `state`'s epoch (see above). */
  async caughtUp(state: PoolState): Promise<void> {
    await (this.adopted.get(state.epoch) ?? this.track(state));
  }

  /** Notifies every peer of `state` and remembers when all have adopted it (last few epochs). */
  private track(state: PoolState): Promise<void> {
    const adopted = this.notifyAll(state).then((all) => this.waitOut(all, state));
    this.adopted.set(state.epoch, adopted);
    for (const epoch of this.adopted.keys())
      if (epoch < state.epoch - 8) this.adopted.delete(epoch);
    return adopted;
  }

  private async waitOut(everyPeerAnswered: boolean, state: PoolState): Promise<void> {
    // With no peers configured, a shared (MySQL) database may still have instances we cannot name.
    const everyPeerKnown = this.peers().length > 0 || this.config.database.driver === 'sqlite';
    if (everyPeerAnswered && everyPeerKnown) return;
    const polled = 2 * this.config.pool.healthIntervalMs;
    const leaseOver = (await this.router?.longestLease(state)) ?? 0;
    await new Promise((resolve) => setTimeout(resolve, Math.max(polled, leaseOver)));
  }

  private peers(): string[] {
    return this.config.server.peers
      .split(',')
      .map((p) => p.trim().replace(/\/+$/, ''))
      .filter(Boolean);
  }

  /** True when every configured peer acknowledged. */
  private async notifyAll(state: PoolState): Promise<boolean> {
    const change = state.nodes.length - (state.previous?.nodes.length ?? 0);
    const token = this.config.security.adminToken;
    const answered = await Promise.all(
      this.peers().map((peer) =>
        axios
          .post(
            `${peer}/api/notify`,
            {
              node_ip: state.nodes.map((n) => n.url),
              mode: change >= 0 ? 'grow' : 'shrink',
              change: Math.abs(change),
              epoch: state.epoch,
            },
            {
              timeout: 2000,
              headers: token ? { Authorization: `Bearer ${token}` } : {},
              // A peer answers itself or not at all: a redirect could carry the admin token to
              // whatever address it names, and is no proof the peer adopted the epoch.
              maxRedirects: 0,
            },
          )
          .then(
            () => true,
            (err: Error) => {
              this.logger.warn(`could not notify ${peer}: ${err.message}`);
              return false;
            },
          ),
      ),
    );
    return answered.every(Boolean);
  }
}
