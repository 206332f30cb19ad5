import fc from 'fast-check';
import { checkAcknowledged } from '../../support/history/acknowledged-model';
import { ALL_KEYS, endOf, Op, PRESENT } from '../../support/history/history';

/**
 * The acknowledged model read straight off its definition (acknowledged-model.ts), one pass over
 * every acknowledged upload and every observation per read: the oracle for the sweep the checker
 * runs, which must flag exactly the same reads.
 */
function flaggedByDefinition(ops: Op[]): Set<number> {
  const flagged = new Set<number>();
  const writes = ops.filter((op) => op.kind === 'write');
  const writeOf = new Map(writes.map((w) => [w.value, w]));
  const acked = writes.filter((w) => w.completedAt !== undefined && w.version !== undefined);
  const deletes = ops.filter((op) => op.kind === 'delete');
  const observations = ops.filter(
    (op) => (op.kind === 'read' || op.kind === 'exists') && op.completedAt !== undefined,
  );
  const imageSeen = (o: Op) => o.value !== null && (o.kind === 'read' || o.value === PRESENT);
  for (const read of observations) {
    const returned = read.kind === 'read' && read.value !== null ? writeOf.get(read.value) : null;
    if (returned === undefined) {
      flagged.add(read.id);
      continue;
    }
    if (returned && read.version !== undefined && returned.version !== undefined) {
      if (read.version !== returned.version) {
        flagged.add(read.id);
        continue;
      }
    }
    const version = read.version ?? returned?.version;
    for (const w of acked) {
      if (endOf(w) >= read.invokedAt) continue;
      if (read.value === null) {
        const lastSeen = Math.max(
          w.invokedAt,
          ...observations
            .filter((o) => imageSeen(o) && endOf(o) < read.invokedAt)
            .map((o) => o.invokedAt),
        );
        if (!deletes.some((d) => endOf(d) > lastSeen && d.invokedAt < endOf(read)))
          flagged.add(read.id);
      } else if (read.kind === 'read' && version !== undefined && version < w.version!) {
        flagged.add(read.id);
      }
    }
    if (
      returned?.completedAt !== undefined &&
      deletes.some((d) => endOf(d) < read.invokedAt && endOf(returned) < d.invokedAt)
    )
      flagged.add(read.id);
  }
  return flagged;
}

const flaggedBySweep = (ops: Op[]) => new Set(checkAcknowledged(ops).map((v) => v.ops[0]));

describe('acknowledged model', () => {
  it('flags exactly the reads its definition rules out, on arbitrary histories', () => {
    const op = fc.record({
      kind: fc.constantFrom('write', 'write', 'read', 'read', 'read', 'exists', 'delete'),
      start: fc.integer({ min: 0, max: 100 }),
      length: fc.integer({ min: 1, max: 30 }),
      answered: fc.boolean(),
      // Which upload a read returns (or nothing, or bytes nobody sent), and under what version.
      pick: fc.integer({ min: -2, max: 12 }),
      version: fc.integer({ min: 1, max: 12 }),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), (drawn) => {
        const ops: Op[] = drawn.map((d, id) => {
          const base = { id, client: `c${id}`, key: 'k', invokedAt: d.start };
          const completedAt = d.start + d.length;
          if (d.kind === 'write')
            return {
              ...base,
              kind: 'write',
              value: `x${id}`,
              ...(d.answered ? { completedAt, version: id + 1 } : {}),
            };
          if (d.kind === 'delete')
            return {
              ...base,
              key: ALL_KEYS,
              kind: 'delete',
              value: null,
              ...(d.answered ? { completedAt } : {}),
            };
          if (d.kind === 'exists')
            return { ...base, kind: 'exists', value: d.pick < 0 ? null : PRESENT, completedAt };
          const value = d.pick === -1 ? null : d.pick === -2 ? 'nobody' : `x${d.pick}`;
          const version = value === null ? {} : { version: d.version };
          return { ...base, kind: 'read', value, completedAt, ...version };
        });
        expect([...flaggedBySweep(ops)].sort()).toEqual([...flaggedByDefinition(ops)].sort());
      }),
      { numRuns: 500 },
    );
  });

  it('judges a half-hour history (30,000 operations on one key, deletes among them) and still finds the stale read at its end', () => {
    const ops: Op[] = [];
    const add = (op: Omit<Op, 'id' | 'key'> & { key?: string }) =>
      ops.push({ key: 'k', ...op, id: ops.length });
    let version = 0;
    for (let t = 0; ops.length < 30_000; t += 10) {
      version++;
      add({
        client: 'w',
        kind: 'write',
        value: `v${version}`,
        invokedAt: t,
        completedAt: t + 2,
        version,
      });
      add({
        client: 'r',
        kind: 'read',
        value: `v${version}`,
        invokedAt: t + 3,
        completedAt: t + 4,
        version,
      });
      add({ client: 'l', kind: 'exists', value: PRESENT, invokedAt: t + 3, completedAt: t + 4 });
      if (version % 50 === 0) {
        // delete_all, then reads that find nothing until the next upload.
        add({
          client: 'd',
          key: ALL_KEYS,
          kind: 'delete',
          value: null,
          invokedAt: t + 5,
          completedAt: t + 6,
        });
        add({ client: 'r', kind: 'read', value: null, invokedAt: t + 7, completedAt: t + 8 });
        add({ client: 'l', kind: 'exists', value: null, invokedAt: t + 7, completedAt: t + 8 });
      }
    }
    const end = ops[ops.length - 1].completedAt! + 10;
    add({
      client: 'r',
      kind: 'read',
      value: 'v3',
      invokedAt: end,
      completedAt: end + 1,
      version: 3,
    });
    // Older than the uploads before it, and acknowledged before deletes that ended before it.
    expect([...flaggedBySweep(ops)]).toEqual([ops.length - 1]);
  });
});
