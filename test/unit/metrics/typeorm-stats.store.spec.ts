import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config/config-loader';
import { behavesLikeTheStatsStore } from './stats-store.contract';

describe('TypeOrmStatsStore on SQLite', () => {
  behavesLikeTheStatsStore(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-stats-'));
    const file = path.join(dir, 'stats.sqlite');
    const overrides = { database: { driver: 'sqlite', file, migrationsRun: true } };
    return {
      config: loadConfig({ overrides }).database,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  });
});
