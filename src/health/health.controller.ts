import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Response } from 'express';
import { BLOB_STORE, BlobStore } from '../storage/blob-store';
import { IMAGE_TABLE, ImageTable } from '../database/image-table';

const PROBE_TIMEOUT_MS = 3000;

/** Liveness of what the app cannot serve without: the key table and the blob store. */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(IMAGE_TABLE) private readonly table: ImageTable,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Database and storage reachable (200) or not (503, with the reason)' })
  async check(@Res() res: Response): Promise<void> {
    try {
      res.json(
        await this.health.check([
          () => this.probe('database', () => this.table.ping()),
          () => this.probe('storage', () => this.blobs.ping()),
        ]),
      );
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      // Terminus's own body (which part is down and why) is what monitors expect here.
      res.status(503).json(err.getResponse());
    }
  }

  private async probe(name: string, ping: () => Promise<void>) {
    const session = this.indicators.check(name);
    try {
      await withTimeout(ping(), PROBE_TIMEOUT_MS);
      return session.up();
    } catch (err) {
      return session.down({ message: (err as Error).message });
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
