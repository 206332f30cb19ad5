import { DataSource, In, MoreThanOrEqual } from 'typeorm';
import { isWriteConflict } from '../../database/write-conflict';
import { Ec2InstanceClaimEntity } from './ec2-instance-claim.entity';

/**
 * Who may act on an EC2 instance of the pool right now. An app instance claims an instance before
 * it starts, adopts or stops it as a stray, so two app instances growing at once never take the same
 * one, and the reconciler never stops one another app instance is bringing up.
 *
 * Why a database row and not a conditional tag update (CreateTags + re-describe): EC2's
 * DescribeInstances is eventually consistent, so two app instances that each write their own claim
 * tag can each read their own value back for a while and both believe they won. The database is
 * already the shared, strongly consistent truth of the pool (the assignment's compare-and-save lives
 * there), and a primary-key insert or a conditional update decides a race exactly once.
 *
 * Claims are not released when the instance joins the pool: they run out (claimTtlMs, longer than
 * any start). Until then an app instance that read the assignment before the join cannot take the
 * instance as a stray; after it, the assignment itself protects it.
 */
export interface InstanceClaims {
  /** True if `owner` now holds the claim on `instanceId` until `now + ttlMs` (free, expired, or its own). */
  claim(instanceId: string, owner: string, now: Date, ttlMs: number): Promise<boolean>;
  /** Unexpired claims: instance id → owner. */
  live(now: Date): Promise<Map<string, string>>;
  /** Drops `owner`'s claims on these instances (after a rollback stopped them). */
  release(instanceIds: string[], owner: string): Promise<void>;
}

export class TypeOrmInstanceClaims implements InstanceClaims {
  constructor(private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(Ec2InstanceClaimEntity);
  }

  // Times come from the app instances' clocks: claims last minutes, clock skew between NTP-synced
  // hosts is milliseconds.
  async claim(instanceId: string, owner: string, now: Date, ttlMs: number): Promise<boolean> {
    const expiresAt = new Date(now.getTime() + ttlMs);
    try {
      await this.repo.insert({ instanceId, owner, expiresAt });
      return true;
    } catch (err) {
      if (!isWriteConflict(err)) throw err;
    }
    const result = await this.repo
      .createQueryBuilder()
      .update(Ec2InstanceClaimEntity)
      .set({ owner, expiresAt })
      .where('instanceId = :instanceId AND (owner = :owner OR expiresAt < :now)', {
        instanceId,
        owner,
        now,
      })
      .execute();
    return result.affected === 1;
  }

  async live(now: Date): Promise<Map<string, string>> {
    const rows = await this.repo.findBy({ expiresAt: MoreThanOrEqual(now) });
    return new Map(rows.map((row) => [row.instanceId, row.owner]));
  }

  async release(instanceIds: string[], owner: string): Promise<void> {
    if (instanceIds.length === 0) return;
    await this.repo.delete({ instanceId: In(instanceIds), owner });
  }
}
