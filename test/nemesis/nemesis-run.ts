import { ColouredUploads } from '../support/coloured-uploads';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestMutant } from '../../src/protocol/test-mutants';
import { checkHistory, HistoryReport } from '../support/history/check-history';
import { History } from '../support/history/history';
import { between, seededRandom } from '../support/seeded-random';
import { allKeys, ClientCounts, NemesisClient, nemesisKeys } from './nemesis-clients';
import { drawFault } from './nemesis-faults';
import { profileOf } from './nemesis-profile';
import { APP_NAMES, NemesisWorld } from './nemesis-world';

/**
 * One nemesis run (issue 21): clients on both front-ends record every operation while faults,
 * drawn by the seed, come and go and overlap; then every fault is healed, the pool settles, each
 * key is read once more through both front-ends and both routes, and the history is judged in
 * both models (test/support/history). What a run says:
 * - acknowledged ok: no read that began after an upload was acknowledged returned an older image,
 *   and no acknowledged upload was lost, under these faults;
 * - linearizable ok: the register model also holds (issue 22's promise);
 * - finalDisagreements empty: after healing, every route of both front-ends answers one image.
 */
export interface NemesisOptions {
  seed: number;
  seconds: number;
  mutant?: TestMutant;
  /** Where a failing key's history and timeline go. */
  outDir: string;
  clientsPerApp?: number;
  /** Hot keys (most uploads) and cold ones (read as often, rarely written): nemesis-clients.ts. */
  keys?: { hot: number; cold: number };
  /** Faults running at once, at most (the tempo's, unless given). */
  maxFaults?: number;
  /** For the linearizability search over all keys. */
  timeLimitMs?: number;
  log?: (line: string) => void;
}

export interface NemesisResult {
  seed: number;
  mutant?: TestMutant;
  seconds: number;
  counts: ClientCounts;
  /** Upload answers with 200 (acknowledged). */
  acknowledged: number;
  faults: Record<string, number>;
  faultLog: string[];
  /** The tempo of a short run; a long one alternates them (tempoAt). */
  tempo: string;
  /** The seed's profile (nemesis-profile.ts). */
  profile: string;
  report: HistoryReport;
  finalFailures: string[];
  finalDisagreements: string[];
  durationMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How densely faults come, set by the seed (tempoAt). In a storm they overlap and the pool hardly settles, so
 * near caches are mostly empty or silent (nearly every fault moves regions or stops a lease); in a
 * calm run one fault at a time comes with quiet between, so near caches fill and are then tested
 * by what comes next (a partition, a restart behind one): both kinds of run find different bugs.
 */
interface Tempo {
  name: 'storm' | 'calm';
  gapMs: [number, number];
  maxFaults: number;
}
const STORM: Tempo = { name: 'storm', gapMs: [200, 1200], maxFaults: 3 };
const CALM: Tempo = { name: 'calm', gapMs: [1500, 5000], maxFaults: 1 };

/** A long run changes tempo every this long, so it has both. */
const TEMPO_PHASE_MS = 60_000;

/**
 * Odd seeds start calm, even ones in a storm: any two seeds in a row (CI's among them) run both;
 * a run longer than a phase alternates.
 */
export const tempoAt = (seed: number, elapsedMs: number): Tempo =>
  (seed + Math.floor(elapsedMs / TEMPO_PHASE_MS)) % 2 === 1 ? CALM : STORM;

export async function runNemesis(options: NemesisOptions): Promise<NemesisResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed);
  const world = await NemesisWorld.start(profileOf(options.seed), options.mutant);
  log(`seed ${options.seed}: world up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  try {
    const history = new History();
    const uploads = new ColouredUploads();
    const keySet = nemesisKeys(options.keys?.hot ?? 4, options.keys?.cold ?? 4);
    const keys = allKeys(keySet);
    world.aimAt = keySet.cold;
    world.hotKeys = keySet.hot;
    const stopWatching = world.watchOwners();
    const counts: ClientCounts = {
      uploads: 0,
      reads: 0,
      variantReads: 0,
      nearHits: 0,
      listings: 0,
      deleteAlls: 0,
      clearCaches: 0,
      failed: 0,
      failures: {},
    };
    let running = true;
    const perApp = options.clientsPerApp ?? 3;
    const clients = world.apps.flatMap((app, a) =>
      Array.from(
        { length: perApp },
        (_, i) =>
          new NemesisClient(
            `${APP_NAMES[a]}-c${i}`,
            app,
            APP_NAMES[a],
            { app: world.apps[1 - a], via: APP_NAMES[1 - a] },
            history,
            uploads,
            seededRandom(options.seed * 1000 + a * 100 + i),
            keySet,
            counts,
            () => world.focus,
          ),
      ),
    );
    const clientRuns = clients.map((client) => client.run(() => running));

    const faults: Record<string, number> = {};
    const faultLog: string[] = [];
    const busy = new Set<string>();
    const inFlight = new Set<Promise<void>>();
    const faultsFrom = Date.now();
    const end = faultsFrom + options.seconds * 1000;
    await sleep(Math.min(1000, options.seconds * 100)); // some history before the first fault
    while (Date.now() < end) {
      const tempo = tempoAt(options.seed, Date.now() - faultsFrom);
      await sleep(between(random, tempo.gapMs[0], tempo.gapMs[1]));
      if (inFlight.size >= (options.maxFaults ?? tempo.maxFaults)) continue;
      const fault = drawFault(random);
      const plan = fault.plan(world, random, busy);
      const holdMs = between(random, 300, 3000);
      if (!plan) continue;
      faults[fault.name] = (faults[fault.name] ?? 0) + 1;
      const at = ((Date.now() - faultsFrom) / 1000).toFixed(1);
      faultLog.push(`${at} s: ${fault.name} [${plan.targets.join(', ')}] for ${holdMs} ms`);
      for (const target of plan.targets) busy.add(target);
      const run: Promise<void> = plan
        .run(holdMs)
        .catch((err: Error) => void faultLog.push(`${at} s: ${fault.name} failed: ${err.message}`))
        .finally(() => {
          for (const target of plan.targets) busy.delete(target);
          inFlight.delete(run);
        });
      inFlight.add(run);
    }
    await Promise.all(inFlight);
    await stopWatching();
    await healEverything(world);
    running = false;
    await Promise.all(clientRuns);
    log(`seed ${options.seed}: healed; ${history.ops.length} operations; settling`);
    await settle(world);

    const finalFailures: string[] = [];
    const finalClients = world.apps.map(
      (app, a) =>
        new NemesisClient(
          `final-${APP_NAMES[a]}`,
          app,
          APP_NAMES[a],
          { app: world.apps[1 - a], via: APP_NAMES[1 - a] },
          history,
          uploads,
          random,
          keySet,
          { ...counts, failures: {} },
        ),
    );
    for (const client of finalClients) {
      for (const key of keys) {
        if (!(await client.readImage(key))) finalFailures.push(`${client.name} /images/${key}`);
        if (!(await client.readJson(key))) finalFailures.push(`${client.name} /api/key/${key}`);
        if (!(await client.readVariant(key)))
          finalFailures.push(`${client.name} variant of ${key}`);
      }
      if (!(await client.list())) finalFailures.push(`${client.name} list_keys`);
    }
    const finalDisagreements = keys.flatMap((key) => {
      const seen = history.ops.filter(
        (op) => op.key === key && op.kind === 'read' && op.client.startsWith('final-'),
      );
      const values = new Set(seen.map((op) => op.value ?? 'nothing'));
      return values.size > 1
        ? [`${key}: ${[...values].map((v) => v.slice(0, 8)).join(' vs ')}`]
        : [];
    });

    const label = `seed-${options.seed}${options.mutant ? `-${options.mutant}` : ''}`;
    const report = checkHistory(history, {
      // A long run's keys have long histories: the search gets time in proportion.
      timeLimitMs: options.timeLimitMs ?? Math.max(120_000, options.seconds * 200),
      outDir: options.outDir,
      label,
    });
    const failed = [report.acknowledged, report.linearizable].some((m) => m.verdict !== 'ok');
    if (failed || finalFailures.length > 0 || finalDisagreements.length > 0) {
      // What the front-ends logged, beside the failing keys' histories: where a fault hit them.
      fs.mkdirSync(options.outDir, { recursive: true });
      world.apps.forEach((app, a) =>
        fs.writeFileSync(path.join(options.outDir, `${label}-${APP_NAMES[a]}.log`), app.output()),
      );
    }
    const acknowledged = history.ops.filter(
      (op) => op.kind === 'write' && op.completedAt !== undefined,
    ).length;
    return {
      seed: options.seed,
      mutant: options.mutant,
      seconds: options.seconds,
      counts,
      acknowledged,
      faults,
      faultLog,
      tempo:
        options.seconds * 1000 > TEMPO_PHASE_MS
          ? `${tempoAt(options.seed, 0).name} and ${tempoAt(options.seed, TEMPO_PHASE_MS).name} by turns, a minute each`
          : tempoAt(options.seed, 0).name,
      profile: world.profile.name,
      report,
      finalFailures,
      finalDisagreements,
      durationMs: Date.now() - started,
    };
  } finally {
    await world.stop();
  }
}

/** Every fault undone: links back, relays passing, nodes running, front-ends answering. */
async function healEverything(world: NemesisWorld): Promise<void> {
  for (const app of APP_NAMES)
    for (const node of world.nodes) {
      try {
        world.net.unblock(app, node.name);
      } catch {
        // it was not blocked
      }
      world.net.heal(app, node.name);
    }
  await Promise.all([world.dbRelay.set('pass'), world.s3Relay.set('pass')]);
  for (const node of world.nodes) {
    if (node.paused) world.signalNode(node, 'SIGCONT');
    if (!node.process) await world.startNode(node);
  }
  for (const app of world.apps) {
    const up = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(5_000) })
      .then(() => true)
      .catch(() => false);
    if (!up) await world.restartApp(app);
  }
}

/**
 * Until both front-ends agree on one pool (same epoch, no resize, every node of it healthy): a
 * system that cannot get there after the faults are gone is a failure of its own.
 */
async function settle(world: NemesisWorld, timeoutMs = 90_000): Promise<void> {
  interface View {
    epoch: number;
    size: number;
    nodes: Array<{ health: { ok: boolean } | null }>;
    resize: { running: boolean };
  }
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const views = await Promise.all(
      world.apps.map((app) =>
        world
          .admin(app, '/api/manager/pool')
          .then((res) => (res.ok ? (res.json() as Promise<View>) : null))
          .catch(() => null),
      ),
    );
    last = JSON.stringify(views.map((v) => v && { epoch: v.epoch, size: v.size }));
    const [a, b] = views;
    if (
      a &&
      b &&
      a.epoch === b.epoch &&
      a.size > 0 &&
      !a.resize.running &&
      a.nodes.every((n) => n.health?.ok)
    )
      return;
    await sleep(250);
  }
  throw new Error(`the pool did not settle within ${timeoutMs / 1000} s after healing: ${last}`);
}
