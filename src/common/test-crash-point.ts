import { ResilienceConfig } from '../config/app-config';

export type CrashPoint = Exclude<ResilienceConfig['testCrashPoint'], ''>;

/**
 * TEST ONLY (resilience.testCrashPoint): dies like kill -9 at the named point of an upload, so the
 * chaos suite can crash the app exactly between two steps a random kill would rarely separate.
 * Empty in every real configuration, where this is one string comparison.
 */
export function crashPoint(config: ResilienceConfig, point: CrashPoint): void {
  if (config.testCrashPoint === point) process.kill(process.pid, 'SIGKILL');
}
