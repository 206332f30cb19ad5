import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/admin-only.decorator';
import { success } from '../common/course-response';
import { CacheConfigService } from './cache-config.service';
import { CacheSettingsDto } from './dto/cache-settings.dto';
import { ManagerDataService } from './manager-data.service';

@ApiTags('manager')
@AdminOnly()
@Controller('api/manager/cache')
export class ManagerCacheController {
  constructor(
    private readonly cache: CacheConfigService,
    private readonly data: ManagerDataService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The cache configuration every node shares: capacity (MB) and policy' })
  async current() {
    return success(await this.cache.current());
  }

  @Put()
  @ApiOperation({
    summary: 'Change capacity and/or policy: stored, then pushed to every node live',
  })
  async update(@Body() body: CacheSettingsDto) {
    return success(await this.cache.apply(body));
  }

  @Post('clear')
  @HttpCode(200)
  @ApiOperation({ summary: 'Drop every cached copy on every node (storage keeps the images)' })
  async clear() {
    await this.data.clearCache();
    return success({});
  }
}
