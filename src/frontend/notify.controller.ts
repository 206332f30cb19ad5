import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/admin-only.decorator';
import { success } from '../common/course-response';
import { PoolRouter } from '../pool/routing/pool-router.service';
import { NotifyDto } from './dto/notify.dto';

@ApiTags('course API')
@Controller('api')
export class NotifyController {
  constructor(private readonly router: PoolRouter) {}

  /** The pool changed (told by the instance that resized it): route by the stored assignment now. */
  @Post('notify')
  @HttpCode(200)
  @AdminOnly()
  @ApiOperation({ summary: 'Pool changed: reload the assignment (manager → front-end)' })
  async notify(@Body() _body: NotifyDto) {
    await this.router.reload();
    return success({ epoch: this.router.epoch });
  }
}
