import { readChecked, uploadChecked } from './checked-io';
import { ConsistencyChecker } from './consistency-checker';
import { makePng } from './images';

export interface LoadReport {
  reads: number;
  /** Reads answered from the front-end's near cache (X-Near-Cache: HIT). */
  nearHits: number;
  writes: number;
  errors: string[];
  staleReads: string[];
}

/**
 * Readers and writers against a running app until stop() resolves: readers GET /images/:key of
 * random keys and check each answer with the ConsistencyChecker; writers upload new bytes for
 * random keys of `writeKeys`. Bounded by the caller's stop, and by `maxMs` for a test that failed
 * or timed out before it could call stop (its apps are gone then: without the bound the workers
 * would spin on refused connections for as long as Jest lives); a failed request is followed by a
 * short pause for the same reason.
 */
export function startLoad(
  appUrl: () => string,
  checker: ConsistencyChecker,
  options: {
    readKeys: string[];
    writeKeys: string[];
    readers?: number;
    writers?: number;
    imageBytes?: number;
    maxMs?: number;
  },
) {
  let running = true;
  const bound = setTimeout(() => (running = false), options.maxMs ?? 180_000).unref();
  const pauseAfterError = () => new Promise((resolve) => setTimeout(resolve, 100));
  const report: LoadReport = {
    reads: 0,
    nearHits: 0,
    writes: 0,
    errors: [],
    staleReads: checker.staleReads,
  };
  const pick = (keys: string[]) => keys[Math.floor(Math.random() * keys.length)];
  const reader = async () => {
    const keys = [...options.readKeys, ...options.writeKeys];
    while (running) {
      const key = pick(keys);
      try {
        const res = await readChecked(checker, appUrl(), key);
        if (res.status !== 200)
          report.errors.push(`GET ${key}: ${res.status} ${res.body.toString().slice(0, 200)}`);
        report.reads++;
        if (res.nearHit) report.nearHits++;
      } catch (err) {
        report.errors.push(`GET ${key}: ${(err as Error).message}`);
        await pauseAfterError();
      }
    }
  };
  const writer = async () => {
    while (running && options.writeKeys.length > 0) {
      const key = pick(options.writeKeys);
      const png = makePng(options.imageBytes ?? 2048);
      try {
        const res = await uploadChecked(checker, appUrl(), key, png);
        if (res.status !== 200)
          report.errors.push(`upload ${key}: ${res.status} ${JSON.stringify(res.body)}`);
        report.writes++;
      } catch (err) {
        report.errors.push(`upload ${key}: ${(err as Error).message}`);
        await pauseAfterError();
      }
    }
  };
  const workers = [
    ...Array.from({ length: options.readers ?? 4 }, reader),
    ...Array.from({ length: options.writers ?? 1 }, writer),
  ];
  return {
    report,
    stop: async () => {
      running = false;
      clearTimeout(bound);
      await Promise.all(workers);
      return report;
    },
  };
}
