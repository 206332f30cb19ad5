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
 * random keys of `writeKeys`. Bounded by the caller's stop; never more than `concurrency` requests
 * in flight.
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
  },
) {
  let running = true;
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
      await Promise.all(workers);
      return report;
    },
  };
}
