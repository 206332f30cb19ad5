import { DataSource, In, LessThan } from 'typeorm';
import { DependencyGuard } from '../common/dependency-guard';
import { PendingInvalidationEntity } from './pending-invalidation.entity';

export interface PendingInvalidation {
  id: number;
  key: string;
  version: number;
  createdAt: Date;
}

/** Records per replay batch: a backlog after a long outage drains over several sweeps. */
const BATCH = 500;

/**
 * The outbox table (records are inserted by the key table's upsert, in its transaction). Every
 * call goes through the database guard: deadline + breaker, DependencyUnavailableError when down.
 */
export class OutboxStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly guard: DependencyGuard,
  ) {}

  /** Oldest first; only records created before `before` when given. */
  pending(before?: Date): Promise<PendingInvalidation[]> {
    return this.guard.run('outbox read', async () => {
      const rows = await this.dataSource.getRepository(PendingInvalidationEntity).find({
        where: before ? { createdAt: LessThan(before) } : {},
        order: { id: 'ASC' },
        take: BATCH,
      });
      return rows.map((r) => ({
        id: Number(r.id),
        key: r.key,
        version: r.version,
        createdAt: r.createdAt,
      }));
    });
  }

  async ack(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.guard.run('outbox ack', () =>
      this.dataSource.getRepository(PendingInvalidationEntity).delete({ id: In(ids.map(String)) }),
    );
  }

  count(): Promise<number> {
    return this.guard.run('outbox count', () =>
      this.dataSource.getRepository(PendingInvalidationEntity).count(),
    );
  }
}
