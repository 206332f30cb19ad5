import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { checkHistory } from '../../support/history/check-history';
import { ALL_KEYS, History, Op, OpKind, PRESENT } from '../../support/history/history';

/**
 * Histories written by hand: [client, kind, value, invoked, completed?, version?]. Times are
 * small integers; an operation without a completion never got an answer.
 */
type Row = [string, OpKind, string | null, number, number | undefined, number?];

function judge(rows: Row[], key = 'k') {
  const ops: Op[] = rows.map(([client, kind, value, invokedAt, completedAt, version], id) => ({
    id,
    client,
    key: kind === 'delete' ? ALL_KEYS : key,
    kind,
    value,
    invokedAt,
    completedAt,
    version,
  }));
  const report = checkHistory(History.of(ops), { timeLimitMs: 5_000 });
  return {
    acknowledged: report.acknowledged.verdict,
    linearizable: report.linearizable.verdict,
    report,
  };
}

describe('history checker: linearizable and acknowledged models', () => {
  it('a write then a read of it passes both', () => {
    const got = judge([
      ['c1', 'write', 'a', 1, 2, 10],
      ['c2', 'read', 'a', 3, 4, 10],
      ['c2', 'read', null, 0, 0.5],
    ]);
    expect(got).toMatchObject({ acknowledged: 'ok', linearizable: 'ok' });
  });

  it('send a, send b, ack a, ack b, read a, never read b: fails both when b committed last', () => {
    const got = judge([
      ['c1', 'write', 'a', 1, 3, 7],
      ['c2', 'write', 'b', 2, 4, 8],
      ['c3', 'read', 'a', 5, 6, 7],
    ]);
    expect(got).toMatchObject({ acknowledged: 'violation', linearizable: 'violation' });
    expect(got.report.acknowledged.failures[0].messages).toEqual([
      'read #2 returned v7; upload #1 (v8) was acknowledged before it began',
    ]);
  });

  it('the same overlap passes both when a committed last (acknowledged first, committed last)', () => {
    const got = judge([
      ['c1', 'write', 'a', 1, 3, 8],
      ['c2', 'write', 'b', 2, 4, 7],
      ['c3', 'read', 'a', 5, 6, 8],
    ]);
    expect(got).toMatchObject({ acknowledged: 'ok', linearizable: 'ok' });
  });

  it('new, old, new again before the second upload is acknowledged: acknowledged passes, linearizable fails', () => {
    const got = judge([
      ['c1', 'write', 'a', 1, 2, 7],
      ['c2', 'write', 'b', 3, 20, 8],
      ['c3', 'read', 'b', 4, 5, 8],
      ['c3', 'read', 'a', 6, 7, 7],
      ['c3', 'read', 'b', 8, 9, 8],
    ]);
    expect(got).toMatchObject({ acknowledged: 'ok', linearizable: 'violation' });
    expect(got.report.linearizable.failures[0].marked.length).toBe(1);
  });

  it('writes must take effect in version order: overlapping reads that see them reversed fail linearizable only', () => {
    const got = judge([
      ['c1', 'write', 'a', 1, 10, 7],
      ['c2', 'write', 'b', 1, 10, 8],
      ['c3', 'read', 'b', 2, 3],
      ['c3', 'read', 'a', 4, 5],
    ]);
    expect(got).toMatchObject({ acknowledged: 'ok', linearizable: 'violation' });
  });

  it('an acknowledged upload read back as nothing is lost in both models', () => {
    const got = judge([
      ['c1', 'write', 'a', 1, 2, 7],
      ['c2', 'read', null, 3, 4],
    ]);
    expect(got).toMatchObject({ acknowledged: 'violation', linearizable: 'violation' });
  });

  it('nothing after a delete that may follow the upload passes both', () => {
    const got = judge([
      ['c1', 'write', 'a', 1, 3, 7],
      ['c2', 'delete', null, 2, 4],
      ['c3', 'read', null, 5, 6],
    ]);
    expect(got).toMatchObject({ acknowledged: 'ok', linearizable: 'ok' });
  });

  it('listed after the delete, then read as nothing: the upload survived the delete and was lost after', () => {
    const got = judge([
      ['c1', 'write', 'a', 1, 3, 7],
      ['c2', 'delete', null, 2, 4],
      ['c3', 'exists', PRESENT, 5, 6],
      ['c3', 'read', null, 7, 8],
    ]);
    expect(got).toMatchObject({ acknowledged: 'violation', linearizable: 'violation' });
  });

  it('an image acknowledged before a delete that was acknowledged comes back: both fail', () => {
    const got = judge([
      ['c1', 'write', 'a', 1, 2, 7],
      ['c2', 'delete', null, 3, 4],
      ['c3', 'read', 'a', 5, 6, 7],
    ]);
    expect(got).toMatchObject({ acknowledged: 'violation', linearizable: 'violation' });
  });

  it('an upload without an answer may take effect late, or never', () => {
    const seenLate = judge([
      ['c1', 'write', 'a', 1, 2, 7],
      ['c2', 'write', 'b', 3, undefined],
      ['c3', 'read', 'a', 4, 5, 7],
      ['c3', 'read', 'b', 30, 31, 9],
    ]);
    expect(seenLate).toMatchObject({ acknowledged: 'ok', linearizable: 'ok' });
    const never = judge([
      ['c1', 'write', 'a', 1, 2, 7],
      ['c2', 'write', 'b', 3, undefined],
      ['c3', 'read', 'a', 30, 31, 7],
    ]);
    expect(never).toMatchObject({ acknowledged: 'ok', linearizable: 'ok' });
    const flickers = judge([
      ['c1', 'write', 'a', 1, 2, 7],
      ['c2', 'write', 'b', 3, undefined],
      ['c3', 'read', 'b', 4, 5, 9],
      ['c3', 'read', 'a', 6, 7, 7],
    ]);
    expect(flickers).toMatchObject({ acknowledged: 'ok', linearizable: 'violation' });
  });

  it('bytes nobody uploaded, and an image under another version than its upload committed, fail both', () => {
    expect(judge([['c1', 'read', 'x', 1, 2, 3]])).toMatchObject({
      acknowledged: 'violation',
      linearizable: 'violation',
    });
    expect(
      judge([
        ['c1', 'write', 'a', 1, 2, 7],
        ['c2', 'read', 'a', 3, 4, 6],
      ]).acknowledged,
    ).toBe('violation');
  });

  it('keys are judged on their own: a violation on one key names that key only', () => {
    const ops: Op[] = [
      {
        id: 0,
        client: 'c1',
        key: 'x',
        kind: 'write',
        value: 'a',
        invokedAt: 1,
        completedAt: 2,
        version: 1,
      },
      {
        id: 1,
        client: 'c1',
        key: 'y',
        kind: 'write',
        value: 'b',
        invokedAt: 3,
        completedAt: 4,
        version: 2,
      },
      { id: 2, client: 'c2', key: 'y', kind: 'read', value: null, invokedAt: 5, completedAt: 6 },
      {
        id: 3,
        client: 'c2',
        key: 'x',
        kind: 'read',
        value: 'a',
        invokedAt: 7,
        completedAt: 8,
        version: 1,
      },
    ];
    const report = checkHistory(History.of(ops));
    expect(report.linearizable.keysChecked).toBe(2);
    expect(report.linearizable.failures.map((f) => f.key)).toEqual(['y']);
    expect(report.acknowledged.failures.map((f) => f.key)).toEqual(['y']);
  });

  it('passes every history made by a real register (random linearization points inside each operation)', () => {
    const op = fc.record({
      kind: fc.constantFrom<OpKind>('write', 'read', 'read', 'exists', 'delete'),
      start: fc.integer({ min: 0, max: 200 }),
      length: fc.integer({ min: 1, max: 40 }),
      at: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      answered: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (drawn) => {
        // Apply the operations at their linearization points, in time order, to one register.
        const timed = drawn.map((d, id) => ({ ...d, id, point: d.start + d.at * d.length }));
        let value: string | null = null;
        let version = 0;
        const ops: Op[] = [];
        for (const d of [...timed].sort((a, b) => a.point - b.point)) {
          const base = { id: d.id, client: `c${d.id}`, invokedAt: d.start };
          const completedAt = d.start + d.length;
          if (d.kind === 'write') {
            value = `x${d.id}`;
            version += 1;
            // An unanswered upload still took effect: its version is learnt from reads, if any.
            const answer = d.answered ? { completedAt, version } : {};
            ops.push({ ...base, key: 'k', kind: 'write', value, ...answer });
          } else if (d.kind === 'delete') {
            value = null;
            const answer = d.answered ? { completedAt } : {};
            ops.push({ ...base, key: ALL_KEYS, kind: 'delete', value: null, ...answer });
          } else if (d.kind === 'read') {
            const seen = value === null ? {} : { version };
            ops.push({ ...base, key: 'k', kind: 'read', value, completedAt, ...seen });
          } else {
            const listed = value === null ? null : PRESENT;
            ops.push({ ...base, key: 'k', kind: 'exists', value: listed, completedAt });
          }
        }
        const report = checkHistory(History.of(ops), { timeLimitMs: 5_000 });
        expect([report.acknowledged.verdict, report.linearizable.verdict]).toEqual(['ok', 'ok']);
      }),
      { numRuns: 300 },
    );
  });

  it('decides quickly with many uploads and deletes that never got an answer (they are tried earliest first)', () => {
    const ops: Op[] = [];
    const add = (op: Omit<Op, 'id' | 'key'> & { key?: string }) =>
      ops.push({ key: 'k', ...op, id: ops.length });
    for (let i = 0; i < 60; i++) {
      const t = i * 10;
      add({ client: 'w', kind: 'write', value: `open${i}`, invokedAt: t });
      if (i % 10 === 0)
        add({ client: 'd', key: ALL_KEYS, kind: 'delete', value: null, invokedAt: t + 1 });
      add({
        client: 'a',
        kind: 'write',
        value: `acked${i}`,
        invokedAt: t + 2,
        completedAt: t + 3,
        version: i + 1,
      });
      add({
        client: 'r',
        kind: 'read',
        value: `acked${i}`,
        invokedAt: t + 4,
        completedAt: t + 5,
        version: i + 1,
      });
      add({ client: 'l', kind: 'exists', value: PRESENT, invokedAt: t + 6, completedAt: t + 7 });
    }
    // The last read saw an image no upload acknowledged before it: not linearizable.
    add({
      client: 'r',
      kind: 'read',
      value: 'acked3',
      invokedAt: 700,
      completedAt: 701,
      version: 4,
    });
    const started = Date.now();
    const report = checkHistory(History.of(ops), { timeLimitMs: 10_000 });
    expect(report.linearizable.verdict).toBe('violation');
    expect(report.acknowledged.verdict).toBe('violation');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('answers "unknown" when the search runs out of time', () => {
    // Forty overlapping writes without versions and a read of each: a large search space.
    const rows: Row[] = [];
    for (let i = 0; i < 40; i++) rows.push([`w${i}`, 'write', `v${i}`, 1, 100]);
    for (let i = 0; i < 40; i++) rows.push([`r${i}`, 'read', `v${(i * 7) % 40}`, 2, 99]);
    const ops: Op[] = rows.map(([client, kind, value, invokedAt, completedAt], id) => ({
      id,
      client,
      key: 'k',
      kind,
      value,
      invokedAt,
      completedAt,
    }));
    const report = checkHistory(History.of(ops), { timeLimitMs: 0 });
    expect(report.linearizable.verdict).toBe('unknown');
  });

  it('writes a failing key as JSON and an HTML timeline, one lane per client, the violation marked', () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-checker-'));
    const ops: Op[] = [
      {
        id: 0,
        client: 'c1',
        key: 'k/1',
        kind: 'write',
        value: 'a',
        invokedAt: 1,
        completedAt: 2,
        version: 1,
      },
      { id: 1, client: 'c2', key: 'k/1', kind: 'read', value: null, invokedAt: 3, completedAt: 4 },
    ];
    const report = checkHistory(History.of(ops), { outDir, label: 'seed-5' });
    const files = report.acknowledged.failures[0].files;
    expect(files.map((f) => path.basename(f))).toEqual([
      'seed-5-k_1-acknowledged.json',
      'seed-5-k_1-acknowledged.html',
    ]);
    const saved = JSON.parse(fs.readFileSync(files[0], 'utf8')) as { ops: Op[]; marked: number[] };
    expect(saved.ops).toHaveLength(2);
    expect(saved.marked).toEqual([1, 0]);
    const html = fs.readFileSync(files[1], 'utf8');
    expect(html.match(/class="[^"]*bad[^"]*"/g)).toHaveLength(2);
    expect(html).toContain('>c1<');
    expect(html).toContain('>c2<');
    fs.rmSync(outDir, { recursive: true, force: true });
  });
});
