/**
 * Source of the time part of versions: Date.now() in microseconds, strictly rising within the
 * process. The +1 µs step tells apart writes of one millisecond, e.g. a delete-all and the
 * re-creation of a key right after it, which must still get a higher version.
 */
export type VersionClock = () => number;

let last = 0;

export const systemVersionClock: VersionClock = () => {
  last = Math.max(Date.now() * 1000, last + 1);
  return last;
};
