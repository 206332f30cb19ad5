import { createHash } from 'node:crypto';

interface Upload {
  hash: string;
  sentAt: number;
  /** When it was acknowledged (200); undefined while unanswered or when it failed. */
  ackedAt?: number;
  /** When it failed (an error answer or none): it may still have committed. */
  failedAt?: number;
  /** The version the app gave it (the ETag), once a read has returned it. */
  version?: number;
}

interface VersionedRead {
  startedAt: number;
  version: number;
  stale: boolean;
}

/**
 * Records every upload per key and judges reads against them ("no stale read after an
 * acknowledged upload", DESIGN.md), by two rules:
 * - Real time: a read that began after upload V was acknowledged must not return an upload U that
 *   had ended (been acknowledged, or failed) before V was sent. Uploads that overlap in time may
 *   take effect in either order, so this rule alone accepts either of them: an upload through an
 *   instance that must first quarantine a node is acknowledged late, though it may have committed
 *   first or last. Ordering by acknowledgement alone would call correct reads stale.
 * - Versions: uploads and reads answer the version (ETag), which orders commits. A read that
 *   returned version v is stale if an upload acknowledged before the read began has a higher
 *   version. An upload's version is known from its answer, or once some read returned it (an
 *   upload without an answer), so reads are judged again as versions are learnt.
 * test/support/history holds the full checker (linearizability search over recorded histories);
 * this one judges online, for suites that only need today's rules.
 * Times are process.hrtime, in ns.
 */
export class ConsistencyChecker {
  private readonly uploads = new Map<string, Upload[]>();
  private readonly versionedReads = new Map<string, VersionedRead[]>();
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

  /** The upload was acknowledged; `version` is the one its answer named (its ETag), if read. */
  acknowledged(key: string, body: Buffer, at = ConsistencyChecker.now(), version?: number): void {
    const upload = this.answered(key, body);
    upload.ackedAt = at;
    if (version !== undefined) this.learn(key, upload, version);
  }

  /** The upload failed or got no answer: it may still have committed, and it has ended. */
  failed(key: string, body: Buffer, at = ConsistencyChecker.now()): void {
    this.answered(key, body).failedAt = at;
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
    const got = candidates.reduce((a, b) => (endOf(b) > endOf(a) ? b : a));
    if (version !== undefined) {
      const read = { startedAt, version, stale: false };
      this.versionedReads.set(key, [...(this.versionedReads.get(key) ?? []), read]);
      if (got.version === undefined) this.learn(key, got, version);
      const newer = history.find(
        (u) => u.ackedAt !== undefined && u.ackedAt < startedAt && (u.version ?? -1) > version,
      );
      if (newer) return this.stale(key, read, newer);
    }
    const ended = got.ackedAt ?? got.failedAt;
    if (ended === undefined) return; // in flight: it may be the newest
    const superseding = history.findIndex(
      (v) => v.ackedAt !== undefined && v.ackedAt < startedAt && ended < v.sentAt,
    );
    if (superseding !== -1) {
      this.staleReads.push(
        `${key}: got upload #${history.indexOf(got)}, #${superseding} was sent after it had ` +
          `ended and acknowledged before the read`,
      );
    }
  }

  private answered(key: string, body: Buffer): Upload {
    const hash = ConsistencyChecker.hash(body);
    const list = this.uploads.get(key) ?? [];
    let upload = list.find(
      (u) => u.hash === hash && u.ackedAt === undefined && u.failedAt === undefined,
    );
    if (!upload) {
      upload = { hash, sentAt: ConsistencyChecker.now() };
      this.uploads.set(key, [...list, upload]);
    }
    return upload;
  }

  /** `upload` has `version`: reads acknowledged-after that returned less are stale. */
  private learn(key: string, upload: Upload, version: number): void {
    upload.version = version;
    if (upload.ackedAt === undefined) return;
    for (const read of this.versionedReads.get(key) ?? []) {
      if (!read.stale && read.startedAt > upload.ackedAt && read.version < version)
        this.stale(key, read, upload);
    }
  }

  private stale(key: string, read: VersionedRead, newer: Upload): void {
    read.stale = true;
    const index = (this.uploads.get(key) ?? []).indexOf(newer);
    this.staleReads.push(
      `${key}: got v${read.version}, upload #${index} (v${newer.version}) was acknowledged ` +
        `before the read`,
    );
  }
}

function endOf(upload: Upload): number {
  return upload.ackedAt ?? upload.failedAt ?? Infinity;
}
