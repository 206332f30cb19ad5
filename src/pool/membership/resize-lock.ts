import { ConflictException } from '@nestjs/common';

export class ResizeInProgressError extends ConflictException {
  override readonly name = 'ResizeInProgressError';
  constructor(running: string) {
    super(`a resize is already running (${running}); try again when it has finished`);
  }
}

/**
 * The rebalance lock of this instance: one pool change at a time. A second caller is refused at
 * once (409), not queued: an operator's click or the auto-scaler's tick should learn that the pool
 * is busy, not silently resize again after the first finished. Across instances, the epoch
 * compare-and-save in the state store refuses the loser.
 */
export class ResizeLock {
  private holder: string | null = null;
  private closed = false;
  private released: (() => void)[] = [];

  get busy(): boolean {
    return this.holder !== null;
  }

  get description(): string | null {
    return this.holder;
  }

  async run<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.holder) throw new ResizeInProgressError(this.holder);
    if (this.closed) throw new ResizeInProgressError('the app is shutting down');
    this.holder = what;
    try {
      return await work();
    } finally {
      this.holder = null;
      for (const resolve of this.released.splice(0)) resolve();
    }
  }

  /** Shutdown: refuses every later run and resolves once the running one (if any) has ended. */
  drain(): Promise<void> {
    this.closed = true;
    if (!this.holder) return Promise.resolve();
    return new Promise((resolve) => this.released.push(resolve));
  }
}
