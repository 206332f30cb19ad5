import { DataSource, MoreThanOrEqual, LessThan, Repository } from 'typeorm';
import { StatsMinuteEntity } from './stats-minute.entity';
import { minuteOf, minuteStart, MinuteStats, StatsStore } from './stats-store.port';

/** StatsStore on the app's database (table stats_minutes), SQLite or MySQL alike. */
export class TypeOrmStatsStore implements StatsStore {
  private readonly rows: Repository<StatsMinuteEntity>;

  constructor(dataSource: DataSource) {
    this.rows = dataSource.getRepository(StatsMinuteEntity);
  }

  async save(stats: MinuteStats): Promise<void> {
    const { minuteStart: start, ...counters } = stats;
    // An upsert, because the current minute is saved again at every poll.
    await this.rows.upsert({ minute: minuteOf(start), ...counters }, ['minute']);
  }

  async loadSince(start: Date): Promise<MinuteStats[]> {
    const rows = await this.rows.find({
      where: { minute: MoreThanOrEqual(minuteOf(start)) },
      order: { minute: 'ASC' },
    });
    return rows.map(({ minute, ...counters }) => ({
      minuteStart: minuteStart(minute),
      ...counters,
    }));
  }

  async prune(before: Date): Promise<void> {
    await this.rows.delete({ minute: LessThan(minuteOf(before)) });
  }
}
