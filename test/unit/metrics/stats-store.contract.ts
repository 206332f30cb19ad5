import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../../migrations';
import { DatabaseConfig } from '../../../src/config/app-config';
import { createDataSourceOptions } from '../../../src/database/data-source-options';
import { ENTITIES } from '../../../src/database/entities';
import { CreateStatsMinutes1795751549371 } from '../../../migrations/1795751549371-CreateStatsMinutes';
import { StatsAggregator } from '../../../src/metrics/stats.aggregator';
import { StatsMinuteEntity } from '../../../src/metrics/stats-minute.entity';
import { MinuteStats } from '../../../src/metrics/stats-store.port';
import { TypeOrmStatsStore } from '../../../src/metrics/typeorm-stats.store';
import { sample, SimClock, T0 } from './stats-fixtures';

const MIN = 60_000;

/** An empty database of its own for one test: its config (migrationsRun on) and how to remove it. */
export interface StatsTestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

function minute(minuteIndex: number, fields: Partial<MinuteStats> = {}): MinuteStats {
  return {
    minuteStart: new Date(T0 + minuteIndex * MIN),
    poolSize: 2,
    poolSizeMax: 2,
    requests: 10,
    hits: 7,
    misses: 3,
    evictions: 0,
    items: 5,
    bytes: 500,
    ...fields,
  };
}

/** The TypeORM StatsStore and its migration, on whichever database `newDatabase` makes. */
export function behavesLikeTheStatsStore(newDatabase: () => Promise<StatsTestDatabase>): void {
  let database: StatsTestDatabase;
  const open: DataSource[] = [];

  /** The app's own options (WAL, time zone, its other tables), plus this table until the lead
   *  registers it in ENTITIES and MIGRATIONS (the Sets keep it once after that). */
  async function openDatabase(): Promise<DataSource> {
    const dataSource = new DataSource({
      ...createDataSourceOptions(database.config),
      entities: [...new Set([...ENTITIES, StatsMinuteEntity])],
      migrations: [...new Set([...MIGRATIONS, CreateStatsMinutes1795751549371])],
    });
    open.push(await dataSource.initialize());
    return dataSource;
  }

  beforeEach(async () => {
    database = await newDatabase();
  });

  afterEach(async () => {
    for (const dataSource of open.splice(0)) {
      if (dataSource.isInitialized) await dataSource.destroy();
    }
    await database.drop();
  });

  it('saves, replaces and loads minutes in order, keeping byte counts past 32 bits', async () => {
    const sut = new TypeOrmStatsStore(await openDatabase());
    await sut.save(minute(2));
    await sut.save(minute(0));
    await sut.save(minute(1));
    await sut.save(minute(2, { requests: 99, bytes: 600 * 2 ** 30 }));

    expect(await sut.loadSince(new Date(T0 + MIN))).toEqual([
      minute(1),
      minute(2, { requests: 99, bytes: 600 * 2 ** 30 }),
    ]);
  });

  it('prunes the minutes before a time', async () => {
    const sut = new TypeOrmStatsStore(await openDatabase());
    for (let m = 0; m < 5; m++) await sut.save(minute(m));

    await sut.prune(new Date(T0 + 3 * MIN));

    const left = await sut.loadSince(new Date(0));
    expect(left.map((stats) => stats.minuteStart.getTime())).toEqual([T0 + 3 * MIN, T0 + 4 * MIN]);
  });

  it('gives an aggregator started on the same database the minutes of the one before', async () => {
    const clock = new SimClock();
    const first = new StatsAggregator(new TypeOrmStatsStore(await openDatabase()), clock, {
      retentionMinutes: 30,
    });
    for (let atMs = T0 + 5_000; atMs < T0 + 3 * MIN; atMs += 5_000) {
      clock.set(atMs);
      await first.ingest([sample('n1', atMs, { hits: 2, misses: 1, items: 4, bytes: 40 })], 1);
    }
    const before = first.series(clock.now(), 5);
    await open[0].destroy();

    clock.set(T0 + 3 * MIN + 10_000);
    const second = new StatsAggregator(new TypeOrmStatsStore(await openDatabase()), clock, {
      retentionMinutes: 30,
    });
    await second.restore();

    expect(second.series(new Date(T0 + 3 * MIN - 1), 5)).toEqual(before);
    expect(before.map((point) => point.requests)).toEqual([0, 0, 33, 36, 36]);
  });

  it('has a migration that can be reverted', async () => {
    const dataSource = await openDatabase();
    const queryRunner = dataSource.createQueryRunner();
    try {
      expect(await queryRunner.hasTable('stats_minutes')).toBe(true);
      await new CreateStatsMinutes1795751549371().down(queryRunner);
      expect(await queryRunner.hasTable('stats_minutes')).toBe(false);
    } finally {
      await queryRunner.release();
    }
  });
}
