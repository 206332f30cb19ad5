import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/admin-only.decorator';
import { success } from '../common/course-response';
import { PoolRouter } from '../pool/routing/pool-router.service';
import type { NearReport } from '../protocol/near-cache.protocol';
import { NearCacheService } from './near-cache.service';

export interface NearFrontEndView extends NearReport {
  /** Near hits / reads since that front-end started (0 before its first read). */
  hitShare: number;
  self: boolean;
}

/**
 * The near cache of every front-end, for the dashboard: this instance's own figures live, the
 * others' as they last reported them to the nodes with their lease renewals (so no instance needs
 * to know the others' addresses).
 */
@ApiTags('manager')
@AdminOnly()
@Controller('api/manager/near')
export class NearCacheController {
  constructor(
    private readonly near: NearCacheService,
    private readonly router: PoolRouter,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Near cache (L1) per front-end: bytes, items, hit share' })
  async view() {
    const own = this.near.stats();
    const reports = new Map<string, NearReport>();
    const answers = await Promise.allSettled(this.router.nodes().map((n) => n.client.stats()));
    for (const answer of answers) {
      if (answer.status !== 'fulfilled') continue;
      for (const report of answer.value.near?.reports ?? []) {
        const known = reports.get(report.name);
        if (!known || report.reads > known.reads) reports.set(report.name, report);
      }
    }
    if (this.near.enabled) reports.set(own.name, own);
    const frontEnds: NearFrontEndView[] = [...reports.values()]
      .map(({ name, items, bytes, capacityBytes, hits, reads }) => ({
        name,
        items,
        bytes,
        capacityBytes,
        hits,
        reads,
        hitShare: reads > 0 ? hits / reads : 0,
        self: name === own.name,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return success({ enabled: this.near.enabled, leaseMs: own.leaseMs, frontEnds });
  }
}
