export const CLOCK = Symbol('Clock');

/** Time behind a port so waits (EC2 polling, schedules) run in simulated time in unit tests. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
