/**
 * What a seed runs against beyond its tempo: how fast the front-ends' failure detectors are, and
 * whether the faults aimed at a cold key's owner also aim the clients at that key.
 *
 * Why two profiles. A defect can be masked by the defence behind it. A restarted node that
 * answered as an owner at once (the `restarted-node-claims-all` mutant) serves only until some
 * front-end's health check sees its new boot id. At the 500 ms interval that finds faults fast,
 * that is too short for an upload through one front-end and a stale near hit on the other to fall
 * inside it, and no seed caught the mutant (docs/nemesis.md). At the production interval (2 s,
 * config/default.yaml) the window is four times longer, and a real deployment has it. Aiming the
 * clients at the key makes the race likely within a run of seconds: the partitioned front-end is
 * warmed to hold a near copy, and for a lease after the fault the uploads go through the other
 * front-end while the partitioned one reads.
 *
 * A restart also goes unnoticed only while nobody uploads to the node: one failed pending mark
 * quarantines it. So the aimed faults pick a node that owns no hot key (nemesis-faults.ts).
 *
 * One profile for all seeds did not work: aiming every seed's clients lost the race that the
 * upload order needs (`commit-before-invalidate`; docs/nemesis.md). So odd seeds run the fast
 * detector with free clients, exactly as before, and even seeds the production detector with
 * aimed ones; CI's seeds (1–4) run both.
 */
export interface NemesisProfile {
  name: 'fast detector' | 'production detector, aimed clients';
  /** PIXPOOL_POOL_HEALTH_INTERVAL_MS of both front-ends. */
  healthIntervalMs: number;
  /** Aimed faults warm the partitioned front-end's near copy first and focus the clients after. */
  aimClients: boolean;
}

const FAST: NemesisProfile = { name: 'fast detector', healthIntervalMs: 500, aimClients: false };
const PRODUCTION: NemesisProfile = {
  name: 'production detector, aimed clients',
  healthIntervalMs: 2000,
  aimClients: true,
};

export const profileOf = (seed: number): NemesisProfile => (seed % 2 === 0 ? PRODUCTION : FAST);

/**
 * Clients turned to one key for a while: those of `partitioned` read it (near hits of the copy
 * the fault may have left stale), the others upload it and read it back through `partitioned`.
 */
export interface Focus {
  key: string;
  partitioned: string;
  until: number;
}

/** Of a focused client's operations, the share on the focus key. */
export const FOCUS_SHARE = 0.5;
