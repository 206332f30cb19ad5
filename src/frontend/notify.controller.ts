import { Body, Controller, HttpCode, Post, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/admin-only.decorator';
import { success } from '../common/course-response';
import { PoolRouter } from '../pool/routing/pool-router.service';
import { NotifyDto } from './dto/notify.dto';

@ApiTags('course API')
@Controller('api')
export class NotifyController {
  constructor(private readonly router: PoolRouter) {}

  /**
   * The pool changed (told by the instance that resized it): route by the stored assignment now.
   * Answers success only once this instance routes by the notified epoch (or a later one): the
   * notifier counts on it (PeerNotifier.caughtUp) before acknowledging uploads.
   */
  @Post('notify')
  @HttpCode(200)
  @AdminOnly()
  @ApiOperation({ summary: 'Pool changed: reload the assignment (manager → front-end)' })
  async notify(@Body() body: NotifyDto) {
    const behind = () => body.epoch !== undefined && this.router.epoch < body.epoch;
    await this.router.reload();
    // That reload may have joined a read begun before the notifier saved: read once more.
    if (behind()) await this.router.refresh().catch(() => undefined);
    if (behind()) {
      throw new ServiceUnavailableException(
        `could not adopt epoch ${body.epoch}: routing by ${this.router.epoch} (database unreachable?)`,
      );
    }
    return success({ epoch: this.router.epoch });
  }
}
