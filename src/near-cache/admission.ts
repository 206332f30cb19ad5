/**
 * Keeps one-off reads out of the near cache: a key is admitted on its second read within the
 * window (a doorkeeper, as in TinyLFU). Two generations of remembered keys, swapped every half
 * window, so a key is remembered between half a window and a whole one; each generation holds at
 * most `maxKeys` keys (a scan of many distinct keys swaps early instead of growing memory).
 */
export class Admission {
  private current = new Set<string>();
  private previous = new Set<string>();
  private swappedAt: number;

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number,
  ) {
    this.swappedAt = now();
  }

  /** Records a read of `key`; true if it was read before within the window. */
  admit(key: string): boolean {
    const now = this.now();
    if (now - this.swappedAt >= this.windowMs / 2 || this.current.size >= this.maxKeys) {
      this.previous = this.current;
      this.current = new Set();
      this.swappedAt = now;
    }
    if (this.current.has(key) || this.previous.has(key)) return true;
    this.current.add(key);
    return false;
  }
}
