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
  const acked = writes.filter((w) => w.completedAt !== undefined && w.version !== undefined);
  const deletes = ops.filter((op) => op.kind === 'delete');
  const observations = ops.filter(
    (op) => (op.kind === 'read' || op.kind === 'exists') && op.completedAt !== undefined,
  );
  for (const read of observations) {
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
    for (const w of acked) {
      if (endOf(w) >= read.invokedAt) continue;
      if (empty && !deletable(read, w, deletes, observations)) {
        violations.push({
          message: `${read.kind} #${read.id} found nothing; upload #${w.id} (v${w.version}) was acknowledged before it began and no delete can fall between`,
          ops: [read.id, w.id],
        });
        break;
      }
      if (!empty && read.kind === 'read' && version !== undefined && version < w.version!) {
        violations.push({
          message: `read #${read.id} returned v${version}; upload #${w.id} (v${w.version}) was acknowledged before it began`,
          ops: [read.id, w.id],
        });
        break;
      }
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

/** Can some delete fall after `write` and after the last image seen before `read`, yet before `read`? */
function deletable(read: Op, write: Op, deletes: Op[], observations: Op[]): boolean {
  let lastSeen = write.invokedAt;
  for (const o of observations) {
    const sawImage = o.value !== null && (o.kind === 'read' || o.value === PRESENT);
    if (sawImage && endOf(o) < read.invokedAt) lastSeen = Math.max(lastSeen, o.invokedAt);
  }
  return deletes.some((d) => endOf(d) > lastSeen && d.invokedAt < endOf(read));
}
