import {
  BadRequestException,
  ConflictException,
  HttpException,
  Injectable,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { regionsOf } from '../pool/routing/assignment';
import { NodeFailureService } from '../pool/membership/node-failure.service';
import { PoolRouter } from '../pool/routing/pool-router.service';
import { ResizeInProgressError } from '../pool/membership/resize-lock';
import { ResizeService } from '../pool/membership/resize.service';
import { NodeView, PoolView, ResizeRecord } from './pool-view';
import { StatsPoller } from './stats-poller.service';

/**
 * The operator's view and control of the pool. Resizes go through ResizeService and its rebalance
 * lock; one that is refused because another runs leaves nothing changed (409).
 */
@Injectable()
export class ManagerPoolService {
  private readonly logger = new Logger(ManagerPoolService.name);
  private last: ResizeRecord | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly router: PoolRouter,
    private readonly resizer: ResizeService,
    private readonly failures: NodeFailureService,
    private readonly poller: StatsPoller,
  ) {}

  view(): PoolView {
    const state = this.router.current;
    const nodes: NodeView[] = (state?.nodes ?? []).map((node) => {
      const stats = this.poller.latestStats(node.id);
      return {
        id: node.id,
        url: node.url,
        regions: state ? regionsOf(state, node.id) : [],
        health: this.failures.status(node.id) ?? null,
        cache: stats
          ? {
              items: stats.items,
              bytesUsed: stats.bytesUsed,
              capacityBytes: stats.capacityBytes,
              policy: stats.policy,
            }
          : null,
      };
    });
    const { min, max } = this.config.pool;
    const running = this.resizer.isResizing();
    return {
      size: this.resizer.size(),
      min,
      max,
      epoch: state?.epoch ?? 0,
      owners: state ? [...state.owners] : [],
      nodes,
      resize: {
        running,
        // The last step of a finished change lingers in progress(): shown only while one runs.
        progress: running ? this.resizer.progress() : null,
        last: this.last ? { ...this.last } : null,
      },
    };
  }

  grow(): ResizeRecord {
    const size = this.resizer.size();
    if (size >= this.config.pool.max) {
      throw new ConflictException(`the pool is at its maximum of ${this.config.pool.max} nodes`);
    }
    return this.startResize(size + 1, 'manager: grow by 1');
  }

  shrink(): ResizeRecord {
    const size = this.resizer.size();
    if (size <= this.config.pool.min) {
      throw new ConflictException(`the pool is at its minimum of ${this.config.pool.min} node(s)`);
    }
    return this.startResize(size - 1, 'manager: shrink by 1');
  }

  /** Starts the resize and answers at once; its progress and outcome show in view(). */
  resizeTo(target: number): ResizeRecord {
    this.checkTarget(target);
    return this.startResize(target, `manager: set size to ${target}`);
  }

  /** Throws (400 outside the pool bounds, 409 while another resize runs) without changing anything. */
  checkTarget(target: number): void {
    const { min, max } = this.config.pool;
    if (!Number.isInteger(target) || target < min || target > max) {
      throw new BadRequestException(`the pool size must be an integer in ${min}..${max}`);
    }
    if (target !== this.resizer.size() && this.resizer.isResizing()) {
      throw new ResizeInProgressError(this.resizer.progress()?.what ?? 'another change');
    }
  }

  /** Resizes and resolves when the pool has `target` nodes (the course's configure_cache waits). */
  async resizeAndWait(target: number, reason: string): Promise<void> {
    this.checkTarget(target);
    if (target === this.resizer.size()) return;
    await this.begin(target, reason).done;
  }

  private startResize(target: number, reason: string): ResizeRecord {
    if (this.resizer.isResizing()) {
      throw new ResizeInProgressError(this.resizer.progress()?.what ?? 'another change');
    }
    // No await between the check above and resizeTo taking the lock: nobody can slip in between.
    const { record, done } = this.begin(target, reason);
    done.catch(() => undefined); // the outcome is kept in the record, shown by view()
    return { ...record };
  }

  /** Starts the resize (the lock is taken before this returns) and records how it ends. */
  private begin(target: number, reason: string): { record: ResizeRecord; done: Promise<void> } {
    const from = this.resizer.size();
    const running = this.resizer.resizeTo(target, reason);
    const record: ResizeRecord = { from, to: target, reason, startedAt: new Date().toISOString() };
    this.last = record;
    const done = running.then(
      () => {
        record.outcome = 'ok';
        record.finishedAt = new Date().toISOString();
      },
      (err: Error) => {
        record.outcome = 'failed';
        record.error = err.message;
        record.finishedAt = new Date().toISOString();
        this.logger.warn(`resize ${from} → ${target} failed: ${err.message}`);
        if (err instanceof HttpException) throw err;
        throw new ServiceUnavailableException(`resize to ${target} failed: ${err.message}`);
      },
    );
    return { record, done };
  }
}
