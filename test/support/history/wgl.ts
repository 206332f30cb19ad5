import { endOf, Op } from './history';

/**
 * Wing & Gong's search for a linearization, with Lowe's memo of (linearized set, state) — the
 * algorithm Porcupine runs (Athalye, github.com/anishathalye/porcupine). Calls and returns form a
 * doubly linked list in time order; the search takes the first call that the model accepts from
 * the current state, lifts it (call and return) out of the list and goes on; meeting a return
 * means the operation it ends was not linearized in time, so the last choice is undone. A
 * configuration already seen (same operations linearized, same state) is not explored twice.
 * An operation with an unknown outcome returns at infinity: it may be placed anywhere after its
 * call, and placing it last is the same as it never happening.
 *
 * Interchangeable operations (same class: same effect on every state, all returning at
 * infinity, e.g. uploads without an answer that no read returned) are tried earliest first only:
 * wherever a later one could take effect, the earliest still open could too, and the later one can
 * take the earliest one's place after. Without this, k of them open at once cost 2^k.
 *
 * An operation that changes no state, whatever the state (a read), is never undone alone: from
 * any configuration where it can take effect, a linearization exists with it first if any exists
 * at all (moving it earlier breaks no real-time order and changes no state), so when the search
 * after it fails, the choice before it is undone too. Concurrent reads cost no more than one.
 */
export interface Model<S> {
  init(): S;
  /** The state after `op` from `state`, or undefined if `op` cannot happen there. */
  step(state: S, op: Op): S | undefined;
  /** A string equal for equal states (the memo's key). */
  key(state: S): string;
  /** True when `op` changes no state, whatever the state (a read). */
  readOnly(op: Op): boolean;
}

export type SearchResult =
  | { verdict: 'ok' }
  | { verdict: 'unknown' }
  /** `stuck`: the operation whose return came with no linearization able to reach it. */
  | { verdict: 'violation'; linearized: number[]; stuck: number };

interface Entry {
  call: boolean;
  op: number;
  time: number;
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

export function searchLinearization<S>(
  ops: Op[],
  model: Model<S>,
  deadline: number,
  interchangeable: (op: Op) => string | undefined = () => undefined,
): SearchResult {
  const head = linkEntries(ops);
  // The memo's key for "these operations linearized": a 64-bit Zobrist hash (two 32-bit halves,
  // each operation's random bits XORed in and out), not the set itself, which would cost memory
  // in the length of the history at every step of a long one.
  const bits = zobristBits(ops.length);
  let low = 0;
  let high = 0;
  let state = model.init();
  const seen = new Set<string>();
  const calls: Array<{ entry: Entry; state: S; forced: boolean }> = [];
  let deepest: { linearized: number[]; stuck: number } = { linearized: [], stuck: -1 };
  const classes = ops.map(interchangeable);
  /** Classes of the calls passed since the scan began at the head: later ones are not tried. */
  let tried = new Set<string>();
  let entry = head.next;
  for (let steps = 0; head.next !== null; steps++) {
    if ((steps & 1023) === 0 && Date.now() > deadline) return { verdict: 'unknown' };
    if (entry === null) throw new Error('unreachable: the list ended before a return');
    if (entry.call) {
      const cls = classes[entry.op];
      if (cls !== undefined) {
        if (tried.has(cls)) {
          entry = entry.next;
          continue;
        }
        tried.add(cls);
      }
      const next = model.step(state, ops[entry.op]);
      if (next !== undefined) {
        const memo = `${low ^ bits[2 * entry.op]}:${high ^ bits[2 * entry.op + 1]}|${model.key(next)}`;
        if (!seen.has(memo)) {
          seen.add(memo);
          calls.push({ entry, state, forced: model.readOnly(ops[entry.op]) });
          state = next;
          low ^= bits[2 * entry.op];
          high ^= bits[2 * entry.op + 1];
          lift(entry);
          entry = head.next;
          tried = new Set();
          continue;
        }
      }
      entry = entry.next;
    } else {
      if (calls.length >= deepest.linearized.length) {
        deepest = { linearized: calls.map((c) => ops[c.entry.op].id), stuck: ops[entry.op].id };
      }
      let top = calls.pop();
      for (;;) {
        if (!top) return { verdict: 'violation', ...deepest };
        state = top.state;
        low ^= bits[2 * top.entry.op];
        high ^= bits[2 * top.entry.op + 1];
        unlift(top.entry);
        if (!top.forced) break;
        top = calls.pop();
      }
      entry = top.entry.next;
      tried = classesBefore(head, entry, classes);
    }
  }
  return { verdict: 'ok' };
}

/** The classes of the calls from the head up to (not including) `end`. */
function classesBefore(
  head: Entry,
  end: Entry | null,
  classes: Array<string | undefined>,
): Set<string> {
  const seen = new Set<string>();
  for (let e = head.next; e !== null && e !== end; e = e.next) {
    const cls = e.call ? classes[e.op] : undefined;
    if (cls !== undefined) seen.add(cls);
  }
  return seen;
}

/** Random bits per operation (xorshift32 from a fixed seed: runs are repeatable). */
function zobristBits(count: number): Uint32Array {
  const bits = new Uint32Array(2 * count);
  let x = 0x9e3779b9;
  for (let i = 0; i < bits.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bits[i] = x >>> 0;
  }
  return bits;
}

/** Calls before returns at equal times: operations that touch are taken as concurrent. */
function linkEntries(ops: Op[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, i) => {
    const call: Entry = {
      call: true,
      op: i,
      time: op.invokedAt,
      match: null,
      prev: null,
      next: null,
    };
    const ret: Entry = { call: false, op: i, time: endOf(op), match: null, prev: null, next: null };
    call.match = ret;
    entries.push(call, ret);
  });
  entries.sort((a, b) => compareTimes(a.time, b.time) || Number(b.call) - Number(a.call));
  const head: Entry = { call: false, op: -1, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const e of entries) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

/** Infinity - Infinity is NaN, so not a subtraction. */
function compareTimes(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}
