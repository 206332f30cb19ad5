import { DataSource } from 'typeorm';
import { isWriteConflict } from '../database/write-conflict';
import { LeaderLeaseEntity } from './leader-lease.entity';

/** The lease row as a contender sees it. */
export interface LeaseRecord {
  holder: string | null;
  epoch: number;
  version: number;
}

/**
 * The conditional writes the lease protocol needs (leader-lease.ts); each is one statement whose
 * WHERE clause is the condition, so the database decides every race.
 */
export interface LeaseStore {
  read(name: string): Promise<LeaseRecord | null>;
  /** Creates the lease held by `holder` at epoch 1; false if it already exists. */
  create(name: string, holder: string): Promise<boolean>;
  /** Proves life: bumps the version if `holder` still holds `epoch`; false once deposed. */
  renew(name: string, holder: string, epoch: number): Promise<boolean>;
  /** Takes the lease at epoch + 1 if the row is still exactly `seen`; false if it moved meanwhile. */
  takeOver(name: string, holder: string, seen: LeaseRecord): Promise<boolean>;
  /** Lets go (holder null, epoch kept) if `holder` still holds `epoch`. */
  release(name: string, holder: string, epoch: number): Promise<void>;
}

/** The one lease today: every singleton job follows the same leader. */
export const SINGLETON_JOBS_LEASE = 'singleton-jobs';

/** The table every pool-state save checks a fencing token against (TypeOrmPoolStateStore). */
export const LEADER_LEASE_TABLE = 'leader_lease';

export class TypeOrmLeaseStore implements LeaseStore {
  constructor(private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(LeaderLeaseEntity);
  }

  async read(name: string): Promise<LeaseRecord | null> {
    const row = await this.repo.findOneBy({ name });
    return row ? { holder: row.holder, epoch: row.epoch, version: row.version } : null;
  }

  async create(name: string, holder: string): Promise<boolean> {
    try {
      await this.repo.insert({ name, holder, epoch: 1, version: 1, renewedAt: new Date() });
      return true;
    } catch (err) {
      if (isWriteConflict(err)) return false; // another instance created it first
      throw err;
    }
  }

  async renew(name: string, holder: string, epoch: number): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .update(LeaderLeaseEntity)
      .set({ version: () => 'version + 1', renewedAt: new Date() })
      .where('name = :name AND holder = :holder AND epoch = :epoch', { name, holder, epoch })
      .execute();
    return result.affected === 1;
  }

  async takeOver(name: string, holder: string, seen: LeaseRecord): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .update(LeaderLeaseEntity)
      .set({ holder, epoch: seen.epoch + 1, version: seen.version + 1, renewedAt: new Date() })
      .where('name = :name AND epoch = :epoch AND version = :version', {
        name,
        epoch: seen.epoch,
        version: seen.version,
      })
      .execute();
    return result.affected === 1;
  }

  async release(name: string, holder: string, epoch: number): Promise<void> {
    await this.repo
      .createQueryBuilder()
      .update(LeaderLeaseEntity)
      .set({ holder: null, version: () => 'version + 1', renewedAt: new Date() })
      .where('name = :name AND holder = :holder AND epoch = :epoch', { name, holder, epoch })
      .execute();
  }
}
