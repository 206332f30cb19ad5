import { checkAcknowledged } from './acknowledged-model';
import { History, Op } from './history';
import { registerModel } from './register-model';
import { writeTimeline } from './timeline';
import { searchLinearization } from './wgl';

export type Verdict = 'ok' | 'violation' | 'unknown';

export interface KeyFailure {
  key: string;
  model: 'linearizable' | 'acknowledged';
  verdict: Exclude<Verdict, 'ok'>;
  messages: string[];
  /** The operations to mark on the timeline. */
  marked: number[];
  /** The files written for this key (JSON history, HTML timeline), when an output folder was given. */
  files: string[];
}

export interface ModelReport {
  verdict: Verdict;
  keysChecked: number;
  failures: KeyFailure[];
}

export interface HistoryReport {
  operations: number;
  keys: number;
  linearizable: ModelReport;
  acknowledged: ModelReport;
}

/**
 * Judges a history in both models, key by key. The linearizability search gets `timeLimitMs` in
 * all (keys share what is left); a key it could not decide in time is "unknown", which callers
 * count as a failure. With `outDir`, each failing key's history goes there as JSON and as an
 * HTML timeline.
 */
export function checkHistory(
  history: History,
  options: { timeLimitMs?: number; outDir?: string; label?: string } = {},
): HistoryReport {
  const deadline = Date.now() + (options.timeLimitMs ?? 60_000);
  const linearizable: ModelReport = { verdict: 'ok', keysChecked: 0, failures: [] };
  const acknowledged: ModelReport = { verdict: 'ok', keysChecked: 0, failures: [] };
  const keys = history.keys();
  for (const key of keys) {
    const ops = history.of(key);
    const violations = checkAcknowledged(ops);
    acknowledged.keysChecked++;
    if (violations.length > 0) {
      const marked = [...new Set(violations.flatMap((v) => v.ops))];
      const messages = violations.map((v) => v.message);
      fail(acknowledged, { key, model: 'acknowledged', verdict: 'violation', messages, marked });
    }
    const share = (deadline - Date.now()) / (keys.length - linearizable.keysChecked);
    const result = searchLinearization(
      forSearch(ops),
      registerModel,
      Date.now() + share,
      interchangeable,
    );
    linearizable.keysChecked++;
    if (result.verdict === 'unknown') {
      const messages = ['no verdict within the time limit'];
      fail(linearizable, { key, model: 'linearizable', verdict: 'unknown', messages, marked: [] });
    } else if (result.verdict === 'violation') {
      const messages = [
        `no linearization: at best ${result.linearized.length} of ${ops.length} operations, then #${result.stuck} could not take effect before it returned`,
      ];
      const marked = [result.stuck];
      fail(linearizable, { key, model: 'linearizable', verdict: 'violation', messages, marked });
    }
  }
  return { operations: history.ops.length, keys: keys.length, linearizable, acknowledged };

  function fail(report: ModelReport, failure: Omit<KeyFailure, 'files'>): void {
    const files = options.outDir
      ? writeTimeline(options.outDir, failure, history.of(failure.key), options.label)
      : [];
    report.failures.push({ ...failure, files });
    if (report.verdict !== 'unknown') report.verdict = failure.verdict;
  }
}

const UNSEEN = 'unseen';

/**
 * Operations without an answer that have one effect on every state: deletes, and uploads no read
 * returned (their values are all UNSEEN, see forSearch). Each class is searched earliest first.
 */
function interchangeable(op: Op): string | undefined {
  if (op.completedAt !== undefined) return undefined;
  if (op.kind === 'delete') return 'open delete';
  if (op.kind === 'write' && op.value === UNSEEN && op.version === undefined) return 'unseen write';
  return undefined;
}

/**
 * The same history, cheaper to search and with the same verdict: an upload without an answer that
 * nothing observed (no read returned it, no listing that ended after it began showed the key) may
 * be placed last, which is as if it never happened, so it goes; one that no read returned but a
 * listing may have seen stays, its value UNSEEN (no read can tell two such apart); one that a
 * read returned took effect before that read ended, so it ends there at the latest.
 */
function forSearch(ops: Op[]): Op[] {
  const seenBy = new Map<string, number>();
  let lastListed = -Infinity;
  for (const op of ops) {
    if (op.completedAt === undefined) continue;
    if (op.kind === 'exists' && op.value !== null)
      lastListed = Math.max(lastListed, op.completedAt);
    if (op.kind !== 'read' || op.value === null) continue;
    seenBy.set(op.value, Math.min(seenBy.get(op.value) ?? Infinity, op.completedAt));
  }
  const out: Op[] = [];
  for (const op of ops) {
    if (op.kind !== 'write' || op.completedAt !== undefined || op.value === null) out.push(op);
    else if (seenBy.has(op.value)) out.push({ ...op, completedAt: seenBy.get(op.value) });
    else if (lastListed > op.invokedAt) out.push({ ...op, value: UNSEEN });
  }
  return out;
}

/** One line per model, for logs and the notes. */
export function describeReport(report: HistoryReport): string {
  const line = (name: string, m: ModelReport) =>
    `${name}: ${m.verdict} (${m.keysChecked} keys checked, ${m.failures.length} failing)` +
    m.failures
      .slice(0, 5)
      .map(
        (f) =>
          `\n  ${f.key}: ${f.verdict}: ${f.messages.slice(0, 3).join('; ')}${f.files.length ? ` [${f.files.join(', ')}]` : ''}`,
      )
      .join('');
  return (
    `${report.operations} operations on ${report.keys} keys\n` +
    `${line('acknowledged', report.acknowledged)}\n${line('linearizable', report.linearizable)}`
  );
}

export type { Op };
