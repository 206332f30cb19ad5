import type { AppProcess } from '../support/app-process';
import { between, pick, Random } from '../support/seeded-random';
import { NEAR_LEASE_MS, NemesisNode, NemesisWorld } from './nemesis-world';

/**
 * The faults the nemesis draws from. Each takes what it needs (a node, a front-end, a dependency)
 * so two faults never fight over one thing, holds the fault for `holdMs`, then heals it; faults on
 * different things overlap. A fault that cannot find a free target is not drawn.
 */
export interface Fault {
  name: string;
  /** How often it is drawn relative to the others (1 unless given). */
  weight?: number;
  /** A description of what it will do, or null when nothing it needs is free. */
  plan(world: NemesisWorld, random: Random, busy: Set<string>): Plan | null;
}

export interface Plan {
  /** What it takes: no other fault may take any of these while it runs. */
  targets: string[];
  /** Starts the fault, holds it, heals it. */
  run(holdMs: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A partition lasts at least this, beyond the drawn hold: past a node request's deadline. */
const PARTITION_MIN_MS = 1000;

/** A fault drawn by the seed, each as often as its weight says. */
export function drawFault(random: Random): Fault {
  const total = FAULTS.reduce((sum, fault) => sum + (fault.weight ?? 1), 0);
  let at = random() * total;
  for (const fault of FAULTS) {
    at -= fault.weight ?? 1;
    if (at < 0) return fault;
  }
  return FAULTS[FAULTS.length - 1];
}

function freeNode(world: NemesisWorld, random: Random, busy: Set<string>): NemesisNode | null {
  const free = world.nodes.filter((n) => n.process && !busy.has(`node:${n.name}`));
  return free.length > 0 ? pick(random, free) : null;
}

/**
 * A cold key (the keys the world aims at, which near caches hold) and the node that owns it, or
 * any node before owners are known: cutting a node that owns nothing read tests little. Under the
 * aimed-clients profile, a node that owns no hot key when there is one: its restart is the one no
 * front-end notices at once (nemesis-profile.ts).
 */
function aimedNode(world: NemesisWorld, random: Random): { node: NemesisNode; key?: string } {
  if (world.profile.aimClients) {
    const owned = world.aimAt.flatMap((key) => {
      const node = world.ownerOf(key);
      return node ? [{ node, key }] : [];
    });
    const busyOwners = new Set(world.hotKeys.map((key) => world.ownerOf(key)));
    const quiet = owned.filter(({ node }) => !busyOwners.has(node));
    if (quiet.length > 0 || owned.length > 0) return pick(random, quiet.length > 0 ? quiet : owned);
  }
  const key = world.aimAt.length > 0 ? pick(random, world.aimAt) : undefined;
  const owner = key !== undefined ? world.ownerOf(key) : undefined;
  return owner ? { node: owner, key } : { node: pick(random, world.nodes) };
}

/**
 * Under the aimed-clients profile (nemesis-profile.ts): before an aimed fault, `app` holds a near
 * copy of the key, and the key settles for a second (no upload is left pending on it).
 */
async function warmBefore(world: NemesisWorld, app: AppProcess, key?: string): Promise<void> {
  if (!world.profile.aimClients || key === undefined) return;
  await world.warm(app, key);
  await sleep(1000);
}

/** Under the aimed-clients profile: the clients turn to the key for a lease. */
function focusOn(world: NemesisWorld, app: AppProcess, key?: string): void {
  if (!world.profile.aimClients || key === undefined) return;
  world.focus = { key, partitioned: world.appName(app), until: Date.now() + NEAR_LEASE_MS };
}

function freeApp(world: NemesisWorld, random: Random, busy: Set<string>): AppProcess | null {
  const free = world.apps.filter((a) => !busy.has(`app:${world.appName(a)}`));
  return free.length > 0 ? pick(random, free) : null;
}

async function leader(world: NemesisWorld): Promise<AppProcess | null> {
  for (const app of world.apps) {
    const text = await world
      .admin(app, '/metrics')
      .then((res) => res.text())
      .catch(() => '');
    if (/^pixpool_leader 1$/m.test(text)) return app;
  }
  return null;
}

/**
 * A front-end and a node kept apart for the hold: `refused` one way (the front-end's packets to
 * the node are refused at once), or `silent` both ways (TestNetwork.partition), aimed at the
 * owner of a cold key.
 */
function apart(name: string, how: 'refused' | 'silent', weight = 1): Fault {
  return {
    name,
    weight,
    plan: (world, random, busy) => {
      const { node, key } =
        how === 'silent' ? aimedNode(world, random) : { node: pick(random, world.nodes) };
      const app = pick(random, world.apps);
      const [from, to] = [world.appName(app), node.name];
      const target = `cut:${from}-${to}`;
      if (busy.has(target)) return null;
      return {
        targets: [target],
        run: async (holdMs) => {
          if (how === 'silent') {
            await warmBefore(world, app, key);
            world.net.partition(from, to);
            focusOn(world, app, key);
          } else world.net.block(from, to);
          await sleep(how === 'silent' ? PARTITION_MIN_MS + holdMs : holdMs);
          if (how === 'silent') world.net.heal(from, to);
          else world.net.unblock(from, to);
        },
      };
    },
  };
}

/** The relay to the database or to storage stops forwarding, open connections included. */
function stall(name: string, which: 'db' | 's3'): Fault {
  return {
    name,
    plan: (world, _random, busy) => {
      if (busy.has(which)) return null;
      const relay = which === 'db' ? world.dbRelay : world.s3Relay;
      return {
        targets: [which],
        run: async (holdMs) => {
          await relay.set('blackhole');
          await sleep(holdMs);
          await relay.set('pass');
        },
      };
    },
  };
}

export const FAULTS: Fault[] = [
  {
    name: 'kill -9 of a node, restart on its port',
    plan: (world, random, busy) => {
      const node = freeNode(world, random, busy);
      if (!node) return null;
      return {
        targets: [`node:${node.name}`],
        run: async (holdMs) => {
          await world.killNode(node);
          await sleep(holdMs);
          await world.startNode(node);
        },
      };
    },
  },
  {
    name: 'SIGSTOP of a node, SIGCONT',
    plan: (world, random, busy) => {
      const node = freeNode(world, random, busy);
      if (!node) return null;
      return {
        targets: [`node:${node.name}`],
        run: async (holdMs) => {
          world.signalNode(node, 'SIGSTOP');
          await sleep(holdMs);
          world.signalNode(node, 'SIGCONT');
        },
      };
    },
  },
  apart('a front-end cut from one node', 'refused'),
  // Silent, both ways: a push already on its way never arrives, and the front-end learns of the
  // cut only when its own requests pass their deadlines, so it keeps serving near copies of the
  // node's regions for a while: only the node's waiting out the lease keeps them fresh. Drawn
  // more often, and held longer than the front-end's request deadline: the fault that tests the
  // leases, and only while near caches hold copies (calm runs; nemesis-run.ts).
  apart('a front-end and a node partitioned', 'silent', 3),
  {
    // A restart the front-end cannot see (no close reaches it): the restarted process must not
    // answer invalidations of regions that front-end may still serve near copies of, under grants
    // of the old process, until they ran out.
    name: 'kill -9 of a node partitioned from a front-end, restart',
    weight: 2,
    plan: (world, random, busy) => {
      const { node, key } = aimedNode(world, random);
      const app = pick(random, world.apps);
      const cut = `cut:${world.appName(app)}-${node.name}`;
      if (!node.process || busy.has(`node:${node.name}`) || busy.has(cut)) return null;
      return {
        targets: [`node:${node.name}`, cut],
        run: async (holdMs) => {
          await warmBefore(world, app, key);
          world.net.partition(world.appName(app), node.name);
          await world.killNode(node);
          await world.startNode(node);
          focusOn(world, app, key);
          await sleep(PARTITION_MIN_MS + holdMs);
          world.net.heal(world.appName(app), node.name);
        },
      };
    },
  },
  {
    name: 'latency to the database or storage',
    // Drawn more often: slow storage widens every window between a read of the database and of
    // the object, and between a commit and what an upload does after it.
    weight: 2,
    plan: (world, random, busy) => {
      const which = pick(random, ['db', 's3'] as const);
      if (busy.has(which)) return null;
      const relay = which === 'db' ? world.dbRelay : world.s3Relay;
      const delayMs = between(random, 20, 200);
      return {
        targets: [which],
        run: async (holdMs) => {
          await relay.set({ mode: 'pass', delayMs });
          await sleep(holdMs);
          await relay.set('pass');
        },
      };
    },
  },
  stall('database stall', 'db'),
  stall('storage stall', 's3'),
  {
    name: 'resize up or down',
    plan: (world, random, busy) => {
      const app = freeApp(world, random, busy);
      if (!app || busy.has('resize')) return null;
      const size = between(random, 2, 4);
      return {
        targets: ['resize'],
        run: async () => {
          const res = await world
            .admin(app, '/api/manager/pool/size', {
              method: 'PUT',
              body: JSON.stringify({ size }),
            })
            .catch(() => null);
          await res?.arrayBuffer();
          // Held until done (or given up), so two resizes never overlap from here.
          const deadline = Date.now() + 20_000;
          while (Date.now() < deadline) {
            const view = await world
              .admin(app, '/api/manager/pool')
              .then((r) => r.json() as Promise<{ resize: { running: boolean } }>)
              .catch(() => null);
            if (view && !view.resize.running) return;
            await sleep(250);
          }
        },
      };
    },
  },
  {
    name: 'kill -9 of a front-end, restart',
    plan: (world, random, busy) => {
      const app = freeApp(world, random, busy);
      if (!app) return null;
      return {
        targets: [`app:${world.appName(app)}`],
        run: async (holdMs) => {
          await world.killApp(app);
          await sleep(Math.min(holdMs, 1000));
          await world.restartApp(app);
        },
      };
    },
  },
  {
    name: 'kill -9 of the leader, restart',
    plan: (world, _random, busy) => {
      if (world.apps.some((a) => busy.has(`app:${world.appName(a)}`))) return null;
      return {
        // Both front-ends: which one leads is known only when the fault runs.
        targets: world.apps.map((a) => `app:${world.appName(a)}`),
        run: async (holdMs) => {
          const app = await leader(world);
          if (!app) return;
          await world.killApp(app);
          await sleep(Math.min(holdMs, 1000));
          await world.restartApp(app);
        },
      };
    },
  },
];
