import { DataSource } from 'typeorm';
import { isWriteConflict } from '../../database/write-conflict';
import { LEADER_LEASE_TABLE, SINGLETON_JOBS_LEASE } from '../../coordination/lease-store';
import { PoolState, PoolStateStore } from './pool-state';
import { PoolStateEntity } from './pool-state.entity';

const ROW_ID = 1;

export class TypeOrmPoolStateStore implements PoolStateStore {
  constructor(private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(PoolStateEntity);
  }

  async load(): Promise<PoolState | null> {
    const row = await this.repo.findOneBy({ id: ROW_ID });
    if (!row) return null;
    const membership = row.membership
      ? (JSON.parse(row.membership) as Pick<PoolState, 'quarantined' | 'target'>)
      : {};
    return {
      epoch: row.epoch,
      owners: JSON.parse(row.owners),
      nodes: JSON.parse(row.nodes),
      previous: row.previous ? JSON.parse(row.previous) : null,
      ...(membership.quarantined?.length ? { quarantined: membership.quarantined } : {}),
      ...(membership.target !== undefined ? { target: membership.target } : {}),
    };
  }

  async epoch(): Promise<number> {
    const row = await this.repo.findOne({
      where: { id: ROW_ID },
      select: { id: true, epoch: true },
    });
    return row?.epoch ?? 0;
  }

  async compareAndSave(
    expectedEpoch: number,
    next: PoolState,
    fencingToken?: number,
  ): Promise<boolean> {
    const values = {
      epoch: next.epoch,
      owners: JSON.stringify(next.owners),
      nodes: JSON.stringify(next.nodes),
      previous: next.previous ? JSON.stringify(next.previous) : null,
      membership:
        next.quarantined?.length || next.target !== undefined
          ? JSON.stringify({ quarantined: next.quarantined ?? [], target: next.target })
          : null,
      updatedAt: new Date(),
    };
    if (expectedEpoch === 0) {
      try {
        await this.repo.insert({ id: ROW_ID, ...values });
        return true;
      } catch (err) {
        // Another instance created the row first: it won.
        if (isWriteConflict(err)) return false;
        throw err;
      }
    }
    const update = this.repo
      .createQueryBuilder()
      .update(PoolStateEntity)
      .set(values)
      .where('id = :id AND epoch = :expected', { id: ROW_ID, expected: expectedEpoch });
    if (fencingToken !== undefined) {
      // One statement: the lease cannot change hands between the check and the write.
      update.andWhere(
        `EXISTS (SELECT 1 FROM ${LEADER_LEASE_TABLE} WHERE name = :lease AND epoch = :token)`,
        { lease: SINGLETON_JOBS_LEASE, token: fencingToken },
      );
    }
    const result = await update.execute();
    return result.affected === 1;
  }
}
