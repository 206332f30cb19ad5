import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config/config-loader';
import { behavesLikeTheOutbox, TestDatabase } from './outbox.contract';

async function newSqliteDatabase(): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-outbox-'));
  return {
    config: loadConfig({ env: { PIXPOOL_DATABASE_FILE: path.join(dir, 'pixpool.sqlite') } })
      .database,
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

describe('outbox and orphan sweep on SQLite', () => {
  behavesLikeTheOutbox(newSqliteDatabase);
});
