import { Injectable, Logger } from '@nestjs/common';
import { PoolState } from './routing/pool-state';

/** A node quarantined, rejoined, removed or replaced after a failure (src/pool/membership/). */
export interface MembershipChange {
  change: 'quarantined' | 'rejoined' | 'removed' | 'replaced';
  /** The failed node; null when the pool was grown back to its target without one. */
  node: string | null;
  replacement?: string;
  reason: string;
  at: string;
}

export interface PoolListener {
  resized?(direction: 'grow' | 'shrink', outcome: 'ok' | 'failed', seconds: number): void;
  assignmentChanged?(state: PoolState): void;
  membershipChanged?(change: MembershipChange): void;
}

/**
 * What happens to the pool, for those who watch it (metrics, peer notification) without the pool
 * depending on them. A listener that throws is logged and never breaks a resize.
 */
@Injectable()
export class PoolEvents {
  private readonly logger = new Logger(PoolEvents.name);
  private readonly listeners: PoolListener[] = [];

  subscribe(listener: PoolListener): void {
    this.listeners.push(listener);
  }

  resized(direction: 'grow' | 'shrink', outcome: 'ok' | 'failed', seconds: number): void {
    this.emit((l) => l.resized?.(direction, outcome, seconds));
  }

  assignmentChanged(state: PoolState): void {
    this.emit((l) => l.assignmentChanged?.(state));
  }

  membershipChanged(change: MembershipChange): void {
    this.emit((l) => l.membershipChanged?.(change));
  }

  private emit(call: (listener: PoolListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (err) {
        this.logger.error(`pool listener failed: ${(err as Error).message}`);
      }
    }
  }
}
