import { createHash } from 'node:crypto';

interface Upload {
  hash: string;
  sentAt: number;
  /** Undefined while the upload has not been acknowledged (it may still take effect). */
  ackedAt?: number;
  /** The version the app gave it (the ETag), once a read has returned it. */
  version?: number;
}

/** A read that returned U although V, overlapping U, was acknowledged before: stale if V > U. */
interface Overlap {
  key: string;
  got: Upload;
  newer: Upload;
}

/**
 * Records every upload per key and judges reads against them: a read that began after an upload
 * V was acknowledged must not return an upload U that was acknowledged before V was sent ("no
 * stale read after an acknowledged upload", DESIGN.md). Uploads that overlap in time may take
 * effect in either order: when U and V overlap and U commits last, U is the newest image even if
 * V's acknowledgement reaches its client later (an upload through an instance that must first
 * quarantine a node answers late), so reading U after V is acknowledged is correct. Judging by
 * acknowledgement order alone would call that stale. Which of the two committed last shows in
 * the versions reads return (the ETag): such a read is judged again once both versions are known,
 * and reported stale if the upload acknowledged first has the higher version. Times are
 * process.hrtime, in ns.
 */
export class ConsistencyChecker {
  private readonly uploads = new Map<string, Upload[]>();
  private overlaps: Overlap[] = [];
  readonly staleReads: string[] = [];
  reads = 0;

  static hash(body: Buffer): string {
    return createHash('sha256').update(body).digest('hex');
  }

  static now(): number {
    return Number(process.hrtime.bigint());
  }

  /** Call before sending an upload: its bytes may be read back before it is acknowledged. */
  sending(key: string, body: Buffer, at = ConsistencyChecker.now()): void {
    const hash = ConsistencyChecker.hash(body);
    this.uploads.set(key, [...(this.uploads.get(key) ?? []), { hash, sentAt: at }]);
  }

  acknowledged(key: string, body: Buffer, at = ConsistencyChecker.now()): void {
    const hash = ConsistencyChecker.hash(body);
    const upload = (this.uploads.get(key) ?? []).find((u) => u.hash === hash && !u.ackedAt);
    if (upload) upload.ackedAt = at;
    else
      this.uploads.set(key, [...(this.uploads.get(key) ?? []), { hash, sentAt: at, ackedAt: at }]);
  }

  /** A read of `key` that started at `startedAt` and returned `body` (at `version`, if known). */
  read(key: string, startedAt: number, body: Buffer, version?: number): void {
    this.reads++;
    const history = this.uploads.get(key) ?? [];
    const hash = ConsistencyChecker.hash(body);
    const candidates = history.filter((u) => u.hash === hash);
    if (candidates.length === 0) {
      this.staleReads.push(`${key}: bytes of no upload`);
      return;
    }
    // The same bytes uploaded twice: judge by the copy that could be newest.
    const got = candidates.reduce((a, b) => (later(b, a) ? b : a));
    if (version !== undefined && got.version === undefined) {
      got.version = version;
      this.judgeOverlaps();
    }
    if (got.ackedAt === undefined) return; // in flight: it may be the newest
    const superseding = history.findIndex(
      (v) => v.ackedAt !== undefined && v.ackedAt < startedAt && got.ackedAt! < v.sentAt,
    );
    if (superseding !== -1) {
      this.staleReads.push(
        `${key}: got upload #${history.indexOf(got)}, #${superseding} was sent after it was ` +
          `acknowledged and acknowledged before the read`,
      );
      return;
    }
    for (const newer of history) {
      if (newer !== got && newer.ackedAt !== undefined && newer.ackedAt < startedAt) {
        if (newer.ackedAt > got.ackedAt) this.overlaps.push({ key, got, newer });
      }
    }
    this.judgeOverlaps();
  }

  private judgeOverlaps(): void {
    this.overlaps = this.overlaps.filter(({ key, got, newer }) => {
      if (got.version === undefined || newer.version === undefined) return true;
      if (newer.version > got.version) {
        const history = this.uploads.get(key) ?? [];
        this.staleReads.push(
          `${key}: got upload #${history.indexOf(got)} (v${got.version}), ` +
            `#${history.indexOf(newer)} (v${newer.version}) committed after it and was ` +
            `acknowledged before the read`,
        );
      }
      return false;
    });
  }
}

function later(a: Upload, b: Upload): boolean {
  return (a.ackedAt ?? Infinity) > (b.ackedAt ?? Infinity);
}
