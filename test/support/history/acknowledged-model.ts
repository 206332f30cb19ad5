import { endOf, Op, PRESENT } from './history';

/**
 * The acknowledged model, today's promise (DESIGN.md): no read that starts after an upload was
 * acknowledged returns an older image, and no acknowledged upload is lost. Weaker than the
 * register: reads that overlap uploads may see them come and go. Per key:
 * - a read returns bytes some upload sent, with that upload's version;
 * - a read that began after upload W was acknowledged returns W or a higher version; it may
 *   return nothing only if a delete could fall between W and the read: one that ended after W
 *   began, began before the read ended, and could follow every observation of an image that ended
 *   before the read began;
 * - a read that began after a delete was acknowledged never returns an upload acknowledged before
 *   that delete began.
 * Each violation names the read and the operation that rules its answer out.
 */
export interface AcknowledgedViolation {
  message: string;
  ops: number[];
}

export function checkAcknowledged(ops: Op[]): AcknowledgedViolation[] {
  const violations: AcknowledgedViolation[] = [];
  const writes = ops.filter((op) => op.kind === 'write');
  const writeOf = new Map(writes.map((w) => [w.value, w]));
  const deletes = ops.filter((op) => op.kind === 'delete');
  const observations = ops.filter(
    (op) => (op.kind === 'read' || op.kind === 'exists') && op.completedAt !== undefined,
  );
  // One sweep in order of invocation: what ended before a read began only grows, so each read
  // needs only two running maxima, not a pass over every upload (a 30-minute run has tens of
  // thousands of operations per key). Among the uploads acknowledged before the read, the one of
  // highest version is the one a returned image must not be older than, and the one that began
  // last is the hardest for a delete to follow: if a delete can fall after it, one can fall after
  // any of them.
  const byEnd = (a: Op, b: Op) => endOf(a) - endOf(b);
  const acked = writes
    .filter((w) => w.completedAt !== undefined && w.version !== undefined)
    .sort(byEnd);
  const imagesSeen = observations
    .filter((o) => o.value !== null && (o.kind === 'read' || o.value === PRESENT))
    .sort(byEnd);
  let nextAcked = 0;
  let newest: Op | undefined;
  let latest: Op | undefined;
  let nextSeen = 0;
  let lastImageBegan = -Infinity;
  for (const read of [...observations].sort((a, b) => a.invokedAt - b.invokedAt)) {
    for (; nextAcked < acked.length && endOf(acked[nextAcked]) < read.invokedAt; nextAcked++) {
      const w = acked[nextAcked];
      if (!newest || w.version! > newest.version!) newest = w;
      if (!latest || w.invokedAt > latest.invokedAt) latest = w;
    }
    for (; nextSeen < imagesSeen.length && endOf(imagesSeen[nextSeen]) < read.invokedAt; nextSeen++)
      lastImageBegan = Math.max(lastImageBegan, imagesSeen[nextSeen].invokedAt);

    const returned = read.kind === 'read' && read.value !== null ? writeOf.get(read.value) : null;
    if (returned === undefined) {
      violations.push({
        message: `read #${read.id} returned bytes no upload sent`,
        ops: [read.id],
      });
      continue;
    }
    if (returned && read.version !== undefined && returned.version !== undefined) {
      if (read.version !== returned.version) {
        violations.push({
          message: `read #${read.id} returned upload #${returned.id} as v${read.version}, committed as v${returned.version}`,
          ops: [read.id, returned.id],
        });
        continue;
      }
    }
    const empty = read.value === null;
    const version = read.version ?? returned?.version;
    if (empty && latest && !deletable(read, Math.max(latest.invokedAt, lastImageBegan), deletes)) {
      violations.push({
        message: `${read.kind} #${read.id} found nothing; upload #${latest.id} (v${latest.version}) was acknowledged before it began and no delete can fall between`,
        ops: [read.id, latest.id],
      });
    }
    const stale = !empty && read.kind === 'read' && version !== undefined;
    if (stale && newest && version < newest.version!) {
      violations.push({
        message: `read #${read.id} returned v${version}; upload #${newest.id} (v${newest.version}) was acknowledged before it began`,
        ops: [read.id, newest.id],
      });
    }
    if (returned && returned.completedAt !== undefined) {
      const resurrecting = deletes.find(
        (d) => endOf(d) < read.invokedAt && endOf(returned) < d.invokedAt,
      );
      if (resurrecting) {
        violations.push({
          message: `read #${read.id} returned upload #${returned.id}, acknowledged before delete #${resurrecting.id} which was acknowledged before the read began`,
          ops: [read.id, returned.id, resurrecting.id],
        });
      }
    }
  }
  return violations;
}

/**
 * Can some delete fall after `lastSeen` (when the last upload, or the last image seen, before
 * `read` began), yet before `read`?
 */
function deletable(read: Op, lastSeen: number, deletes: Op[]): boolean {
  return deletes.some((d) => endOf(d) > lastSeen && d.invokedAt < endOf(read));
}
