import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/admin-only.decorator';
import { success } from '../common/course-response';
import { BreakerState } from '../common/circuit-breaker';
import { DependencyGuard } from '../common/dependency-guard';
import { DATABASE_GUARD } from '../database/database.module';
import { GuardedBlobStore } from '../storage/guarded-blob-store';

export interface DependencyView {
  dependency: string;
  /** closed: calls go through; open: answered 503 at once; half-open: one trial call. */
  breaker: BreakerState;
}

/** The circuit breakers of the storage and the database, for the dashboard (also on /metrics). */
@ApiTags('manager')
@AdminOnly()
@Controller('api/manager/dependencies')
export class ManagerDependenciesController {
  private readonly guards: DependencyGuard[];

  constructor(@Inject(DATABASE_GUARD) database: DependencyGuard, storage: GuardedBlobStore) {
    this.guards = [database, storage.guard];
  }

  @Get()
  @ApiOperation({ summary: 'Circuit-breaker state of the database and the storage' })
  list(): { success: 'true'; dependencies: DependencyView[] } {
    return success({
      dependencies: this.guards.map((g) => ({ dependency: g.dependency, breaker: g.state })),
    });
  }
}
