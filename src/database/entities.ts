import { ImageEntity } from './image.entity';
import { VersionCounterEntity } from './version-counter.entity';
import { StatsMinuteEntity } from '../metrics/stats-minute.entity';
import { PoolStateEntity } from '../pool/routing/pool-state.entity';
import { ManagerSettingEntity } from '../manager/settings/manager-setting.entity';
import { Ec2InstanceClaimEntity } from '../pool/providers/ec2-instance-claim.entity';
import { PendingInvalidationEntity } from '../coordination/pending-invalidation.entity';
import { LeaderLeaseEntity } from '../coordination/leader-lease.entity';

/**
 * Every TypeORM entity of the app. A module that adds a table appends its entity here (and its
 * migration to migrations/index.ts), so the app, the migrate CLI and the tests share one list.
 */
export const ENTITIES = [
  ImageEntity,
  VersionCounterEntity,
  StatsMinuteEntity,
  PoolStateEntity,
  ManagerSettingEntity,
  Ec2InstanceClaimEntity,
  PendingInvalidationEntity,
  LeaderLeaseEntity,
];
