import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config/config-loader';
import { behavesLikeStoredSettings } from './settings-store.contract';

describe('stored manager settings on SQLite', () => {
  behavesLikeStoredSettings(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-settings-'));
    const overrides = {
      database: { driver: 'sqlite', file: path.join(dir, 'db.sqlite'), migrationsRun: true },
    };
    return {
      config: loadConfig({ overrides }).database,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  });
});
