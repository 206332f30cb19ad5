import { Logger } from '@nestjs/common';

/**
 * A job run every `intervalMs`, never two runs at once (a slow run makes the next tick skip), its
 * errors logged and never thrown: a failing sweep during an outage simply runs again later.
 */
export class PeriodicJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One run now, unless one is under way (then that one is awaited). */
  tick(): Promise<void> {
    if (!this.running) {
      this.running = this.work()
        .catch((err: unknown) =>
          this.logger.warn(
            `${this.name} failed, next run in ${this.intervalMs} ms: ${message(err)}`,
          ),
        )
        .finally(() => (this.running = null));
    }
    return this.running;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
