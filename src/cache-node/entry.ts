/**
 * Bytes charged per entry on top of its key's UTF-8 length and its value's length, so that
 * `bytesUsed <= capacityBytes` bounds the process's real memory, not just the payload.
 *
 * Measured on Node 20 x64 (no pointer compression) with 200k entries, values from 10 B to 16 KiB
 * (`--expose-gc`, memoryUsage before/after): ~480 B of V8 heap per entry (this object with its
 * boxed version, two short header strings, the Map slot, the Buffer and ArrayBuffer objects) and
 * ~250-380 B of native memory (the backing store record, malloc headers and rounding). Rounded up.
 * The value itself is charged by its block size (value-pool.ts), slack included.
 */
export const ENTRY_OVERHEAD_BYTES = 800;

/** `blockBytes`: the value's block (value-pool.ts), which is what the value really occupies. */
export function entrySize(keyBytes: number, blockBytes: number): number {
  return keyBytes + blockBytes + ENTRY_OVERHEAD_BYTES;
}

/**
 * One cached value. Immutable once stored (a newer put replaces the whole object); its value's
 * block is only recycled once no response is writing it. The four policy fields belong to
 * whichever replacement policy is active; one class keeps every entry the same V8 shape.
 */
export class Entry {
  /** Precomputed so a hit formats no numbers. */
  readonly versionHeader: string;
  readonly lengthHeader: string;

  newer: Entry | null = null;
  older: Entry | null = null;
  visited = false;
  slot = -1;
  /** Responses (or transfers) still writing `value`: its block is recycled only once they are done. */
  readers = 0;
  /** Left the store while readers were still writing it. */
  retired = false;

  constructor(
    readonly key: string,
    readonly region: number,
    readonly value: Buffer,
    readonly contentType: string,
    readonly version: number,
    readonly size: number,
  ) {
    this.versionHeader = String(version);
    this.lengthHeader = String(value.length);
  }

  resetPolicyState(): void {
    this.newer = null;
    this.older = null;
    this.visited = false;
    this.slot = -1;
  }
}
