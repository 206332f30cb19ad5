import { Controller, Get, Inject, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Request, Response } from 'express';
import { isAdminCaller } from '../common/admin.guard';
import { withDeadline } from '../common/with-deadline';
import { AppConfig } from '../config/app-config';
import { BLOB_STORE, BlobStore } from '../storage/blob-store';
import { IMAGE_TABLE, ImageTable } from '../database/image-table';
import { DATABASE_GUARD } from '../database/database.module';
import { DependencyGuard } from '../common/dependency-guard';
import { GuardedBlobStore } from '../storage/guarded-blob-store';

/** Outer bound only: each probe already has its dependency's deadline (the guards). */
const PROBE_TIMEOUT_MS = 3000;

/**
 * Liveness (`/health/live`: the process answers; restart it if not) apart from readiness
 * (`/health/ready`, and `/health` as before: the key table and the blob store answer; take the
 * instance out of the load balancer if not). An outage of S3 or the database makes an instance
 * unready, never dead: restarting it would not bring the dependency back, and cached images are
 * still served meanwhile. Each probe reports its dependency's circuit-breaker state.
 */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(IMAGE_TABLE) private readonly table: ImageTable,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly config: AppConfig,
    @Inject(DATABASE_GUARD) private readonly databaseGuard: DependencyGuard,
    private readonly storage: GuardedBlobStore,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'The process answers (200); dependencies are not probed' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary:
      'Database and storage reachable (200) or not (503); which part and why for admin callers only',
  })
  ready(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.check(req, res);
  }

  @Get()
  @ApiOperation({ summary: 'Same as /health/ready' })
  async check(@Req() req: Request, @Res() res: Response): Promise<void> {
    // Error texts name hosts, buckets and files: only admin callers see them.
    const detailed = isAdminCaller(req, this.config);
    try {
      const result = await this.health.check([
        () => this.probe('database', () => this.table.ping(), this.databaseGuard),
        () => this.probe('storage', () => this.blobs.ping(), this.storage.guard),
      ]);
      res.json(detailed ? result : { status: result.status });
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      // Terminus's own body (which part is down and why) is what monitors expect here.
      res.status(503).json(detailed ? err.getResponse() : { status: 'error' });
    }
  }

  private async probe(name: string, ping: () => Promise<void>, guard: DependencyGuard) {
    const session = this.indicators.check(name);
    try {
      await withDeadline(ping(), PROBE_TIMEOUT_MS);
      return session.up({ breaker: guard.state });
    } catch (err) {
      return session.down({ message: (err as Error).message, breaker: guard.state });
    }
  }
}
