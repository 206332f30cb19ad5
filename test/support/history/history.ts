/**
 * A recorded history of register operations, Jepsen style: each operation has its invocation and,
 * if it got an answer, its completion (process.hrtime, ns). Values are unique (every uploaded
 * image is fresh bytes), named by their SHA-256, so a read names the write it returns.
 *
 * - write: an upload; `version` is the one its answer named (the ETag), or one a read revealed.
 * - read: `value` null for a 404; `version` from the ETag.
 * - exists: a list_keys answer seen from one key: `value` is null when the key was not listed,
 *   PRESENT when it was.
 * - delete: delete_all or clear/data, recorded once under ALL_KEYS and applied to every key.
 *
 * An operation without `completedAt` has an unknown outcome (an error answer, a timeout, a
 * connection cut): it may have taken effect at any moment after its invocation, or never.
 * Operations that surely did nothing (a read that failed, a 4xx upload) are not recorded.
 */
export type OpKind = 'write' | 'read' | 'exists' | 'delete';

export const ALL_KEYS = '*';
export const PRESENT = 'present';

export interface Op {
  id: number;
  /** One lane of the timeline: a client runs one operation at a time. */
  client: string;
  key: string;
  kind: OpKind;
  value: string | null;
  version?: number;
  invokedAt: number;
  completedAt?: number;
  /** What the operation went through, e.g. 'a2 /images' (for the timeline). */
  via?: string;
}

export interface Pending {
  /** The answer came: for a read, what it returned. */
  ok(result?: { value?: string | null; version?: number }): void;
  /** No answer, or an error that leaves the outcome open. */
  unknown(): void;
  /** It surely did nothing: forget it. */
  cancel(): void;
}

export class History {
  private readonly recorded: Op[] = [];
  private readonly cancelled = new Set<Op>();
  private nextId = 0;

  /** Every operation recorded and not cancelled, in invocation order. */
  get ops(): Op[] {
    return this.cancelled.size === 0
      ? this.recorded
      : this.recorded.filter((op) => !this.cancelled.has(op));
  }

  /** A history of operations written down by hand (unit tests) or loaded from JSON. */
  static of(ops: Op[]): History {
    const history = new History();
    history.recorded.push(...ops);
    history.nextId = Math.max(0, ...ops.map((op) => op.id + 1));
    return history;
  }

  static now(): number {
    return Number(process.hrtime.bigint());
  }

  invoke(
    client: string,
    key: string,
    kind: OpKind,
    value: string | null = null,
    via?: string,
  ): Pending {
    const op: Op = { id: this.nextId++, client, key, kind, value, invokedAt: History.now(), via };
    this.recorded.push(op);
    return {
      ok: (result = {}) => {
        op.completedAt = History.now();
        if (result.value !== undefined) op.value = result.value;
        if (result.version !== undefined) op.version = result.version;
      },
      unknown: () => undefined,
      cancel: () => {
        this.cancelled.add(op);
      },
    };
  }

  /** Every key any operation named. */
  keys(): string[] {
    return [...new Set(this.recorded.map((op) => op.key).filter((key) => key !== ALL_KEYS))];
  }

  /**
   * The history of one key (P-compositionality: a register per key is linearizable iff every
   * key's sub-history is), deletes of every key included, with each write's version filled in
   * from a read that returned its value when its own answer did not say.
   */
  of(key: string): Op[] {
    const ops = this.ops
      .filter((op) => op.key === key || (op.kind === 'delete' && op.key === ALL_KEYS))
      .map((op) => ({ ...op, key }));
    const learnt = new Map<string, number>();
    for (const op of ops) {
      if (op.kind === 'read' && op.value !== null && op.version !== undefined)
        learnt.set(op.value, op.version);
    }
    for (const op of ops) {
      if (op.kind === 'write' && op.version === undefined && op.value !== null)
        op.version = learnt.get(op.value);
    }
    return ops;
  }
}

export function endOf(op: Op): number {
  return op.completedAt ?? Infinity;
}
