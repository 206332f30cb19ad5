import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/admin-only.decorator';
import { success } from '../common/course-response';
import { StatsQueryDto } from './dto/stats-query.dto';
import { ManagerStatsService } from './manager-stats.service';

@ApiTags('manager')
@AdminOnly()
@Controller('api/manager/stats')
export class ManagerStatsController {
  constructor(private readonly stats: ManagerStatsService) {}

  @Get()
  @ApiOperation({
    summary:
      'Per-minute pool statistics (nodes, requests, hits, misses, rates, items, bytes) of the last ' +
      '`minutes` (default 30), and the rates of the last 60 s',
  })
  snapshot(@Query() query: StatsQueryDto) {
    return success(this.stats.snapshot(query.minutes));
  }
}
