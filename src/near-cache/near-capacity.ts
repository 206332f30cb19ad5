import { totalmem } from 'node:os';

/** 'auto': this share of the machine's memory... */
export const NEAR_AUTO_SHARE = 1 / 16;
/** ...but never more: the embedded default's nodes hold 64 MiB each, and L1 keeps the hot set. */
export const NEAR_AUTO_CAP_MB = 64;

/**
 * The near cache's capacity in MiB from its setting: a number as given (0 = off), or 'auto',
 * which fits small instances (a 512 MiB machine gets 32 MiB) and is capped for large ones.
 */
export function nearCapacityMb(setting: number | 'auto', totalBytes = totalmem()): number {
  if (setting !== 'auto') return setting;
  return Math.min(NEAR_AUTO_CAP_MB, Math.floor((totalBytes / 1024 / 1024) * NEAR_AUTO_SHARE));
}
