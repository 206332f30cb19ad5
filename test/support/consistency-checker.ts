import { createHash } from 'node:crypto';

interface Version {
  hash: string;
  ackedAt: number;
}

/**
 * Records every acknowledged upload per key and judges reads against them: a read that began
 * after an upload was acknowledged must return that upload or a later one ("no stale read after
 * an acknowledged upload", DESIGN.md). Times are process.hrtime, in ns.
 */
export class ConsistencyChecker {
  private readonly versions = new Map<string, Version[]>();
  private readonly inFlight = new Map<string, string[]>();
  readonly staleReads: string[] = [];
  reads = 0;

  static hash(body: Buffer): string {
    return createHash('sha256').update(body).digest('hex');
  }

  static now(): number {
    return Number(process.hrtime.bigint());
  }

  /** Call before sending an upload: its bytes may be read back before it is acknowledged. */
  sending(key: string, body: Buffer): void {
    this.inFlight.set(key, [...(this.inFlight.get(key) ?? []), ConsistencyChecker.hash(body)]);
  }

  acknowledged(key: string, body: Buffer): void {
    const hash = ConsistencyChecker.hash(body);
    this.versions.set(key, [
      ...(this.versions.get(key) ?? []),
      { hash, ackedAt: ConsistencyChecker.now() },
    ]);
    this.inFlight.set(
      key,
      (this.inFlight.get(key) ?? []).filter((h) => h !== hash),
    );
  }

  /** A read of `key` that started at `startedAt` and returned `body`. */
  read(key: string, startedAt: number, body: Buffer): void {
    this.reads++;
    const history = this.versions.get(key) ?? [];
    const hash = ConsistencyChecker.hash(body);
    let newestAckedBefore = -1;
    history.forEach((v, i) => {
      if (v.ackedAt < startedAt) newestAckedBefore = i;
    });
    const index = history.map((v) => v.hash).lastIndexOf(hash);
    const pending = (this.inFlight.get(key) ?? []).includes(hash);
    if (index === -1 && !pending) {
      this.staleReads.push(`${key}: bytes of no upload`);
    } else if (index !== -1 && index < newestAckedBefore && !pending) {
      this.staleReads.push(
        `${key}: got upload #${index}, #${newestAckedBefore} was acknowledged before the read`,
      );
    }
  }
}
