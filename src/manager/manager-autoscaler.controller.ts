import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/admin-only.decorator';
import { success } from '../common/course-response';
import { AutoscalerPolicyDto } from './dto/autoscaler-policy.dto';
import { ManagerAutoscalerService } from './manager-autoscaler.service';

@ApiTags('manager')
@AdminOnly()
@Controller('api/manager/autoscaler')
export class ManagerAutoscalerController {
  constructor(private readonly autoscaler: ManagerAutoscalerService) {}

  @Get()
  @ApiOperation({ summary: 'Mode, thresholds and ratios, and the last 20 decisions with reasons' })
  async view() {
    return success(await this.autoscaler.view());
  }

  @Put()
  @ApiOperation({
    summary:
      'Change mode (manual/auto), maxMiss, minMiss, expRatio, shrinkRatio; applies next tick',
  })
  async update(@Body() body: AutoscalerPolicyDto) {
    return success({ policy: await this.autoscaler.update(body) });
  }
}
