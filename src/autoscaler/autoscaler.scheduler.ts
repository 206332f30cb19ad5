import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AUTOSCALER_SETTINGS, AutoscalerSettings } from './autoscaler-settings';
import { AutoscalerService } from './autoscaler.service';

/** Name of the interval in the SchedulerRegistry. */
export const AUTOSCALER_INTERVAL = 'autoscaler';

/**
 * Registers the tick at start rather than with @Interval, whose period is fixed at compile time:
 * this one comes from config (autoscaler.intervalMs). ScheduleModule clears every interval in the
 * registry when the app shuts down, this one included.
 */
@Injectable()
export class AutoscalerScheduler implements OnModuleInit {
  private readonly logger = new Logger('Autoscaler');

  constructor(
    private readonly autoscaler: AutoscalerService,
    private readonly registry: SchedulerRegistry,
    @Inject(AUTOSCALER_SETTINGS) private readonly settings: AutoscalerSettings,
  ) {}

  onModuleInit(): void {
    if (!this.settings.enabled) {
      this.logger.log('auto-scaler job off on this instance (autoscaler.enabled: false)');
      return;
    }
    const handle = setInterval(() => {
      this.autoscaler
        .tick()
        .catch((error: unknown) => this.logger.error(`tick failed: ${String(error)}`));
    }, this.settings.intervalMs);
    this.registry.addInterval(AUTOSCALER_INTERVAL, handle);
  }
}
