import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config/config-loader';
import { behavesLikeTheImageTable, migratesUpAndDown, TestDatabase } from './image-table.contract';

/** A SQLite file in a folder that does not exist yet (the driver creates it). */
async function newSqliteDatabase(): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-sqlite-'));
  const file = path.join(dir, 'nested', 'pixpool.sqlite');
  return {
    config: loadConfig({ env: { PIXPOOL_DATABASE_FILE: file } }).database,
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

describe('ImageTable on SQLite', () => {
  behavesLikeTheImageTable(newSqliteDatabase);
  migratesUpAndDown(newSqliteDatabase);
});
