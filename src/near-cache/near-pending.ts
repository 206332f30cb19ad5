import { originalKeyOf } from '../protocol/variant-key';

/**
 * Keys (or all keys) that an upload or a delete_all is about to commit, as pushed by the owner
 * node (or marked by this front-end's own upload): no near copy of them is admitted until the
 * mark is released or runs out. The node keeps the same mark and is what makes the upload safe
 * (src/cache-node/pending-keys.ts): while it holds it, no read is vouched for near admission
 * anyway. This set closes the gap of a push that arrives before the node's answer to a read
 * started earlier. A mark here lasts at least as long as at the node (it is received later).
 */
export class NearPending {
  private readonly keys = new Map<string, Map<string, number>>();
  /** Marks on every key (delete_all): id → expiry. */
  private readonly all = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  add(key: string | undefined, id: string, ms: number): void {
    const until = this.now() + ms;
    if (key === undefined) {
      this.all.set(id, Math.max(this.all.get(id) ?? 0, until));
      return;
    }
    let marks = this.keys.get(key);
    if (!marks) this.keys.set(key, (marks = new Map()));
    marks.set(id, Math.max(marks.get(id) ?? 0, until));
  }

  release(key: string | undefined, id: string): void {
    if (key === undefined) {
      this.all.delete(id);
      return;
    }
    const marks = this.keys.get(key);
    if (!marks) return;
    marks.delete(id);
    if (marks.size === 0) this.keys.delete(key);
  }

  /** True while a live mark covers the key. */
  blocks(key: string): boolean {
    if (this.all.size === 0 && this.keys.size === 0) return false;
    const now = this.now();
    if (live(this.all, now)) return true;
    // Marks are on originals; a variant is pending with its original (variant-key.ts).
    const original = originalKeyOf(key);
    const marks = this.keys.get(original);
    if (!marks) return false;
    if (live(marks, now)) return true;
    this.keys.delete(original);
    return false;
  }

  /** Forgets marks that ran out (the periodic tick). */
  sweep(): void {
    const now = this.now();
    live(this.all, now);
    for (const [key, marks] of this.keys) if (!live(marks, now)) this.keys.delete(key);
  }
}

/** Drops expired marks; true if one is still live. */
function live(marks: Map<string, number>, now: number): boolean {
  for (const [id, until] of marks) if (until <= now) marks.delete(id);
  return marks.size > 0;
}
