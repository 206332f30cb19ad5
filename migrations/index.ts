import { CreateImages1795751000000 } from './1795751000000-CreateImages';
import { CreateStatsMinutes1795751549371 } from './1795751549371-CreateStatsMinutes';
import { CreatePoolState1795752000000 } from './1795752000000-CreatePoolState';
import { CreateManagerSettings1795753000000 } from './1795753000000-CreateManagerSettings';
import { CreateEc2InstanceClaims1795757120000 } from './1795757120000-CreateEc2InstanceClaims';
import { CreateLeaderLease1795760000000 } from './1795760000000-CreateLeaderLease';
import { AddPoolStateMembership1795760000001 } from './1795760000001-AddPoolStateMembership';
import { CreatePendingInvalidations1795761100000 } from './1795761100000-CreatePendingInvalidations';
import { CreateVersionCounter1796287900000 } from './1796287900000-CreateVersionCounter';

/**
 * Every migration, oldest first. Passed to TypeORM as classes (not a glob) so they run the same
 * from ts-jest and from the compiled dist/. Append new ones at the end.
 */
export const MIGRATIONS = [
  CreateImages1795751000000,
  CreateStatsMinutes1795751549371,
  CreatePoolState1795752000000,
  CreateManagerSettings1795753000000,
  CreateEc2InstanceClaims1795757120000,
  CreateLeaderLease1795760000000,
  AddPoolStateMembership1795760000001,
  CreatePendingInvalidations1795761100000,
  CreateVersionCounter1796287900000,
];
