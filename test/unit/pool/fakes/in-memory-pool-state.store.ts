import { PoolState, PoolStateStore } from '../../../../src/pool/routing/pool-state';

/**
 * The shared database row in memory, with the real compare-and-save rule. `saveAsAnotherInstance`
 * plays a second app instance; `holdLoads` makes load() wait so tests can overlap readers.
 */
export class InMemoryPoolStateStore implements PoolStateStore {
  private row: PoolState | null = null;
  loads = 0;
  saves: PoolState[] = [];
  private held: Promise<void> | null = null;
  private release: (() => void) | null = null;
  failNextLoad: Error | null = null;

  constructor(initial?: PoolState) {
    if (initial) this.row = structuredClone(initial);
  }

  get stored(): PoolState | null {
    return this.row ? structuredClone(this.row) : null;
  }

  saveAsAnotherInstance(state: PoolState): void {
    this.row = structuredClone(state);
  }

  holdLoads(): () => void {
    this.held = new Promise((resolve) => (this.release = resolve));
    return () => {
      this.held = null;
      this.release?.();
    };
  }

  async load(): Promise<PoolState | null> {
    this.loads++;
    if (this.held) await this.held;
    if (this.failNextLoad) {
      const err = this.failNextLoad;
      this.failNextLoad = null;
      throw err;
    }
    return this.stored;
  }

  async compareAndSave(expectedEpoch: number, next: PoolState): Promise<boolean> {
    if ((this.row?.epoch ?? 0) !== expectedEpoch) return false;
    this.row = structuredClone(next);
    this.saves.push(structuredClone(next));
    return true;
  }

  async epoch(): Promise<number> {
    return this.row?.epoch ?? 0;
  }
}
