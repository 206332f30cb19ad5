import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { DatabaseConfig } from '../../../src/config/app-config';
import { loadConfig } from '../../../src/config/config-loader';
import { LeaderLease } from '../../../src/coordination/leader-lease';
import { TypeOrmLeaseStore } from '../../../src/coordination/lease-store';
import { openDataSource } from '../../../src/database/data-source.factory';
import { TypeOrmPoolStateStore } from '../../../src/pool/routing/typeorm-pool-state.store';
import { createTestMysqlDatabase, describeWithMysql } from '../../support/mysql';
import { poolState } from '../pool/fakes/pool-state.fixtures';

interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

const LEASE_MS = 10_000;

/** Each instance's own monotonic clock; moved by hand, so no test waits out a lease. */
class LocalClock {
  ms = 1_000_000;
  readonly now = () => this.ms;
}

/**
 * The lease protocol against the real lease table on one database kind: several instances (each
 * its own LeaderLease and clock) sharing a migrated database.
 */
function behavesLikeTheLeaderLease(newDatabase: () => Promise<TestDatabase>): void {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeEach(async () => {
    db = await newDatabase();
    dataSource = await openDataSource({ ...db.config, migrationsRun: true });
  });
  afterEach(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  function instance(name: string, eligible = true) {
    const clock = new LocalClock();
    const lease = new LeaderLease(new TypeOrmLeaseStore(dataSource), {
      name: 'singleton-jobs',
      holder: name,
      leaseMs: LEASE_MS,
      eligible,
      now: clock.now,
    });
    return { lease, clock };
  }

  /** One protocol round on every instance, each clock moved by `ms` first. */
  async function round(instances: ReturnType<typeof instance>[], ms: number): Promise<void> {
    for (const { lease, clock } of instances) {
      clock.ms += ms;
      await lease.step();
    }
  }
  const leaders = (instances: ReturnType<typeof instance>[]) =>
    instances.filter(({ lease }) => lease.isLeader()).length;

  it('elects exactly one of instances starting together, and keeps it while it renews', async () => {
    const all = [instance('a'), instance('b'), instance('c')];
    await Promise.all(all.map(({ lease }) => lease.step()));
    expect(leaders(all)).toBe(1);
    const first = all.findIndex(({ lease }) => lease.isLeader());
    expect(all[first].lease.fencingToken()).toBe(1);

    for (let i = 0; i < 20; i++) await round(all, 2000); // 40 s of renewals every 2 s
    expect(all[first].lease.isLeader()).toBe(true);
    expect(leaders(all)).toBe(1);
    expect(all[first].lease.fencingToken()).toBe(1);
  });

  it('an ineligible instance never leads, even alone', async () => {
    const only = instance('x', false);
    for (let i = 0; i < 10; i++) await round([only], 5000);
    expect(only.lease.isLeader()).toBe(false);
    await expect(new TypeOrmLeaseStore(dataSource).read('singleton-jobs')).resolves.toBeNull();
  });

  it('a dead leader is replaced after the lease, with a new fencing token; never two at once', async () => {
    const a = instance('a');
    const b = instance('b');
    await round([a, b], 0);
    expect(a.lease.isLeader()).toBe(true);
    // a dies (stops stepping); b sees no renewal. Check every 2 s that at most one leads.
    let takeoverAfter = 0;
    for (let t = 2000; t <= 20_000 && !b.lease.isLeader(); t += 2000) {
      a.clock.ms += 2000; // a's time goes on although it does nothing
      await round([b], 2000);
      expect(leaders([a, b])).toBeLessThanOrEqual(1);
      takeoverAfter = t;
    }
    expect(b.lease.isLeader()).toBe(true);
    expect(takeoverAfter).toBeGreaterThanOrEqual(LEASE_MS);
    expect(takeoverAfter).toBeLessThanOrEqual(LEASE_MS + 2000);
    expect(b.lease.fencingToken()).toBe(2);
    expect(a.lease.isLeader()).toBe(false); // its own lease ran out on its own clock
  });

  it('a leader paused past its lease wakes up deposed: its renewal is refused', async () => {
    const a = instance('a');
    const b = instance('b');
    await round([a, b], 0);
    for (let t = 0; t < 7; t++) await round([b], 2000); // a frozen 14 s
    expect(b.lease.isLeader()).toBe(true);
    a.clock.ms += 14_000;
    expect(a.lease.isLeader()).toBe(false);
    expect(a.lease.fencingToken()).toBeNull();
    await a.lease.step(); // its renewal finds another holder
    expect(a.lease.isLeader()).toBe(false);
    await round([a, b], 2000);
    expect(leaders([a, b])).toBe(1);
    expect(b.lease.isLeader()).toBe(true);
  });

  it('a released lease is taken over on the next step, without waiting', async () => {
    const a = instance('a');
    const b = instance('b');
    await round([a, b], 0);
    await a.lease.release();
    expect(a.lease.isLeader()).toBe(false);
    await round([b], 100);
    expect(b.lease.isLeader()).toBe(true);
    expect(b.lease.fencingToken()).toBe(2);
  });

  it('a leader that cannot reach the database stops leading when its lease runs out', async () => {
    const a = instance('a');
    await a.lease.step();
    const failing = new LeaderLease(
      {
        read: () => Promise.reject(new Error('db down')),
        create: () => Promise.reject(new Error('db down')),
        renew: () => Promise.reject(new Error('db down')),
        takeOver: () => Promise.reject(new Error('db down')),
        release: () => Promise.reject(new Error('db down')),
      },
      { name: 'singleton-jobs', holder: 'a', leaseMs: LEASE_MS, eligible: true, now: a.clock.now },
    );
    // Same holder, fresh object: its term starts only from a successful write, so it never leads.
    await expect(failing.step()).rejects.toThrow('db down');
    expect(failing.isLeader()).toBe(false);
    // The real one, renewals failing from now on: it leads until its lease, not a moment later.
    (a.lease as unknown as { store: { renew: () => Promise<boolean> } }).store.renew = () =>
      Promise.reject(new Error('db down'));
    a.clock.ms += 5000;
    await expect(a.lease.step()).rejects.toThrow('db down');
    expect(a.lease.isLeader()).toBe(true);
    a.clock.ms += 5000;
    expect(a.lease.isLeader()).toBe(false);
  });

  it('fences the pool state: a save with a deposed leader’s token is refused', async () => {
    const states = new TypeOrmPoolStateStore(dataSource);
    await states.compareAndSave(0, poolState(1, ['n1']));
    const a = instance('a');
    const b = instance('b');
    await round([a, b], 0);
    const staleToken = a.lease.fencingToken()!;
    await expect(states.compareAndSave(1, poolState(2, ['n1', 'n2']), staleToken)).resolves.toBe(
      true,
    );
    for (let t = 0; t < 7; t++) await round([b], 2000); // a frozen; b takes over
    expect(b.lease.fencingToken()).toBe(staleToken + 1);

    await expect(states.compareAndSave(2, poolState(3, ['n1']), staleToken)).resolves.toBe(false);
    expect((await states.load())?.epoch).toBe(2);
    await expect(
      states.compareAndSave(2, poolState(3, ['n1']), b.lease.fencingToken()!),
    ).resolves.toBe(true);
    // Without a token (an operator's resize) only the epoch is compared.
    await expect(states.compareAndSave(3, poolState(4, ['n1', 'n2']))).resolves.toBe(true);
  });
}

describe('leader lease on SQLite', () => {
  behavesLikeTheLeaderLease(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-lease-'));
    return {
      config: loadConfig({ env: { PIXPOOL_DATABASE_FILE: path.join(dir, 'lease.sqlite') } })
        .database,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  });
});

describeWithMysql('leader lease on MariaDB/MySQL', () => {
  behavesLikeTheLeaderLease(async () => {
    const db = await createTestMysqlDatabase();
    return { config: db.config(), drop: () => db.drop() };
  });
});
