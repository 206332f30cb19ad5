import { Global, Module } from '@nestjs/common';
import { LEADERSHIP } from './leadership.port';
import { LeaderLeaseService } from './leader-lease.service';

/**
 * Coordination between app instances: the leader lease of the singleton jobs. Global, so any job
 * takes LEADERSHIP with `@Optional() @Inject(LEADERSHIP)`. Needs the DataSource (DatabaseModule)
 * and the Prometheus registry (MetricsModule).
 */
@Global()
@Module({
  providers: [LeaderLeaseService, { provide: LEADERSHIP, useExisting: LeaderLeaseService }],
  exports: [LEADERSHIP, LeaderLeaseService],
})
export class CoordinationModule {}
