import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/admin-only.decorator';
import { success } from '../common/course-response';
import { PoolSizeDto } from './dto/pool-size.dto';
import { ManagerPoolService } from './manager-pool.service';

/**
 * Resizes answer 202 as soon as they hold the rebalance lock: on EC2 a resize takes minutes. Their
 * progress and outcome show in GET /api/manager/pool.
 */
@ApiTags('manager')
@AdminOnly()
@Controller('api/manager/pool')
export class ManagerPoolController {
  constructor(private readonly pool: ManagerPoolService) {}

  @Get()
  @ApiOperation({
    summary: 'Size, epoch, owner of each of the 16 regions, nodes with health, resize progress',
  })
  view() {
    return success(this.pool.view());
  }

  @Post('grow')
  @HttpCode(202)
  @ApiOperation({ summary: 'Add one node' })
  @ApiAcceptedResponse({ description: 'Resize started' })
  @ApiConflictResponse({ description: 'Another resize runs, or the pool is at its maximum' })
  grow() {
    return success({ resize: this.pool.grow() });
  }

  @Post('shrink')
  @HttpCode(202)
  @ApiOperation({ summary: 'Remove one node (its cached entries move to the others)' })
  @ApiAcceptedResponse({ description: 'Resize started' })
  @ApiConflictResponse({ description: 'Another resize runs, or the pool is at its minimum' })
  shrink() {
    return success({ resize: this.pool.shrink() });
  }

  @Put('size')
  @HttpCode(202)
  @ApiOperation({ summary: 'Resize the pool to `size` nodes' })
  @ApiAcceptedResponse({ description: 'Resize started' })
  @ApiConflictResponse({ description: 'Another resize runs' })
  setSize(@Body() body: PoolSizeDto) {
    return success({ resize: this.pool.resizeTo(body.size) });
  }
}
