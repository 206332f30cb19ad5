import { zeroCounters } from '../../../src/cache-node/stats';
import { toSample } from '../../../src/manager/node-sample';
import { NodeCounters, NodeStats } from '../../../src/protocol/cache-node.protocol';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
/** This app instance started polling at T0. */
const INSTANCE_START = T0;

function counters(hits: number, misses: number): NodeCounters {
  return { ...zeroCounters(), requests: hits + misses, gets: hits + misses, hits, misses };
}

/** What a node answers at `atMs` if it started at `startedMs` (its wall clock may be off). */
function stats(startedMs: number, atMs: number, hits: number, misses: number): NodeStats {
  return {
    items: 0,
    bytesUsed: 0,
    capacityBytes: 1,
    policy: 'lru',
    entryOverheadBytes: 800,
    pooledBytes: 0,
    leases: 0,
    tombstones: 0,
    epoch: 1,
    startedAt: new Date(startedMs).toISOString(),
    uptimeMs: atMs - startedMs,
    sinceStart: counters(hits, misses),
    interval: { ...counters(0, 0), startedAt: new Date(atMs).toISOString(), ms: 0 },
  };
}

const at = (ms: number) => new Date(ms);

describe('toSample: where a node starts counting', () => {
  it('a node that started after this instance, seen for the first time, counts all its traffic', () => {
    // Added by a grow at T0 + 3 s, 40 hits and 10 misses before the next poll at T0 + 5 s.
    const s = toSample('n', at(T0 + 5000), stats(T0 + 3000, T0 + 5000, 40, 10), undefined, T0);
    expect(s).toMatchObject({ hits: 40, misses: 10, requests: 50 });
  });

  it('a node already running when this instance first sees it counts from now', () => {
    const first = stats(T0 - 60_000, T0 + 5000, 400, 100);
    expect(toSample('n', at(T0 + 5000), first, undefined, INSTANCE_START)).toMatchObject({
      hits: 0,
      misses: 0,
    });
    const next = stats(T0 - 60_000, T0 + 10_000, 403, 101);
    expect(toSample('n', at(T0 + 10_000), next, first, INSTANCE_START)).toMatchObject({
      hits: 3,
      misses: 1,
    });
  });

  it('a node restarted between two polls counts everything since its restart', () => {
    const before = stats(T0 - 60_000, T0 + 5000, 400, 100);
    const restarted = stats(T0 + 7000, T0 + 10_000, 6, 2);
    expect(toSample('n', at(T0 + 10_000), restarted, before, INSTANCE_START)).toMatchObject({
      hits: 6,
      misses: 2,
    });
  });

  it('a restart that kept its start time (same clock reading) is caught by totals going down', () => {
    const before = stats(T0, T0 + 5000, 400, 100);
    const restarted = { ...stats(T0, T0 + 10_000, 6, 2) };
    expect(toSample('n', at(T0 + 10_000), restarted, before, INSTANCE_START)).toMatchObject({
      hits: 6,
      misses: 2,
    });
  });

  it('judges a node’s start by its uptime, not by its wall clock', () => {
    // The node's clock is an hour behind: by its startedAt it predates us, by its uptime it does not.
    const skewed = {
      ...stats(T0 + 3000, T0 + 5000, 40, 10),
      startedAt: new Date(T0 - 3_600_000).toISOString(),
    };
    expect(toSample('n', at(T0 + 5000), skewed, undefined, T0)).toMatchObject({ hits: 40 });
  });
});
