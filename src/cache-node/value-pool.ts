/**
 * Memory for values, recycled instead of freed.
 *
 * Why: with one malloc'd Buffer per value, every eviction frees a block in the middle of the C
 * heap and every PUT allocates another next to Node's transient socket read buffers; glibc keeps
 * the resulting holes resident. Measured with 64 KiB values filling 1.25 × a 256 MiB capacity:
 * RSS ~400 MB with plain Buffers, ~355 MB when evicted blocks are reused (a plain Map of Buffers
 * shows the same 400 MB, so this is the allocator, not the store).
 *
 * So a value lives in a block whose size is a size class (multiples of 64 B up to 512 B, then 8
 * classes per doubling: at most 12.5 % slack, and powers of two fit exactly); the store charges the
 * block, not the value. An evicted entry's block goes to a free list of its class, unless a
 * response is still writing it (Entry.readers): then it is handed back when the last one finishes.
 * The free lists are bounded (maxPooledBytes); beyond that, blocks are left to the GC.
 */

const EMPTY = Buffer.alloc(0);

export function blockBytes(length: number): number {
  if (length <= 512) return Math.ceil(length / 64) * 64;
  const step = 2 ** Math.ceil(Math.log2(length)) / 16;
  return Math.ceil(length / step) * step;
}

/** Largest value length whose block fits in `budget` bytes (-1 if none, not even empty). */
export function largestFitting(budget: number): number {
  if (budget < 0) return -1;
  if (budget < 576) return Math.floor(budget / 64) * 64;
  const step = 2 ** Math.ceil(Math.log2(budget)) / 16;
  return Math.floor(budget / step) * step;
}

export class ValuePool {
  private readonly free = new Map<number, ArrayBufferLike[]>();
  /** Blocks this pool made, true while they sit in a free list: guards against foreign buffers and double release. */
  private readonly state = new WeakMap<ArrayBufferLike, boolean>();
  private pooled = 0;

  constructor(private maxPooledBytes: number) {}

  get pooledBytes(): number {
    return this.pooled;
  }

  setMaxPooledBytes(max: number): void {
    this.maxPooledBytes = max;
    this.trim(0);
  }

  /** A buffer of exactly `length` bytes (contents undefined) over a block of blockBytes(length). */
  acquire(length: number): Buffer {
    if (length === 0) return EMPTY;
    const size = blockBytes(length);
    const block = this.free.get(size)?.pop();
    if (block) {
      this.pooled -= size;
      this.state.set(block, false);
      return Buffer.from(block, 0, length);
    }
    const fresh = Buffer.allocUnsafeSlow(size);
    this.state.set(fresh.buffer, false);
    return length === size ? fresh : fresh.subarray(0, length);
  }

  /** Takes the block under `value` back. The caller guarantees nothing reads `value` any more. */
  release(value: Buffer): void {
    const block = value.buffer;
    if (this.state.get(block) !== false) return; // not from this pool, or already free
    const size = block.byteLength;
    if (!this.trim(size)) return;
    this.state.set(block, true);
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(block);
    this.pooled += size;
  }

  /** Makes room for `incoming` pooled bytes by dropping other blocks; false if it cannot. */
  private trim(incoming: number): boolean {
    if (incoming > this.maxPooledBytes) return false;
    for (const list of this.free.values()) {
      while (this.pooled + incoming > this.maxPooledBytes && list.length > 0) {
        this.pooled -= (list.pop() as ArrayBufferLike).byteLength;
      }
      if (this.pooled + incoming <= this.maxPooledBytes) return true;
    }
    return this.pooled + incoming <= this.maxPooledBytes;
  }
}
