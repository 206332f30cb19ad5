import { DataSource, EntityManager, In, Repository } from 'typeorm';
import { ImageEntity } from './image.entity';
import { PendingInvalidationEntity } from '../coordination/pending-invalidation.entity';
import {
  DeletedRows,
  ImageRecord,
  ImageTable,
  KeyPage,
  UpsertImageInput,
  UpsertImageResult,
} from './image-table';
import { inTransaction } from './transaction';
import { takeVersion, versionAbove } from './version-counter';
import { isWriteConflict } from './write-conflict';

/** An upsert that lost a race runs again; after the winner commits, the retry finds its row. */
const UPSERT_ATTEMPTS = 4;
/** Rows per DELETE … WHERE key IN (…), well under every driver's parameter limit. */
const DELETE_CHUNK = 500;

/**
 * ImageTable on TypeORM, for SQLite and MySQL alike. Every writing transaction takes its version
 * from the version counter first (version-counter.ts): that lock orders all writes of the table,
 * so a transaction reads rows no other writer can change before it commits.
 */
export class TypeOrmImageTable implements ImageTable {
  constructor(private readonly dataSource: DataSource) {}

  async find(key: string): Promise<ImageRecord | null> {
    const row = await this.images().findOneBy({ key });
    return row ? toRecord(row) : null;
  }

  async upsert(input: UpsertImageInput): Promise<UpsertImageResult> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await inTransaction(this.dataSource, (manager) => this.upsertIn(manager, input));
      } catch (err) {
        if (attempt >= UPSERT_ATTEMPTS || !isWriteConflict(err)) throw err;
      }
    }
  }

  async referencedObjectNames(objectNames: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < objectNames.length; i += DELETE_CHUNK) {
      const rows = await this.images().find({
        select: { objectName: true },
        where: { objectName: In(objectNames.slice(i, i + DELETE_CHUNK)) },
      });
      for (const row of rows) found.add(row.objectName);
    }
    return found;
  }

  /** The key column compares bytes on both drivers, so `key > after` and the order agree. */
  async listKeys(page: KeyPage = {}): Promise<string[]> {
    const query = this.images()
      .createQueryBuilder('image')
      .select('image.key', 'key')
      .orderBy('image.key', 'ASC');
    if (page.after !== undefined) query.where('image.key > :after', { after: page.after });
    if (page.limit !== undefined) query.limit(page.limit);
    const rows = await query.getRawMany<{ key: string }>();
    return rows.map((r) => r.key);
  }

  async totalBytes(): Promise<number> {
    const row = await this.images()
      .createQueryBuilder('image')
      .select('COALESCE(SUM(image.byteSize), 0)', 'total')
      .getRawOne<{ total: string | number }>();
    return Number(row?.total ?? 0);
  }

  /**
   * Deletes the rows it read, by key, under the version counter's lock: no upsert can commit
   * between the read and the delete, so the names returned are exactly those of the rows
   * deleted, and a key written after it survives with its object.
   */
  async deleteAll(): Promise<DeletedRows> {
    return inTransaction(this.dataSource, async (manager) => {
      const version = await takeVersion(manager);
      const repo = manager.getRepository(ImageEntity);
      const rows = await repo.find({ select: { key: true, objectName: true } });
      for (let i = 0; i < rows.length; i += DELETE_CHUNK) {
        await repo.delete({ key: In(rows.slice(i, i + DELETE_CHUNK).map((r) => r.key)) });
      }
      return { objectNames: rows.map((r) => r.objectName), version };
    });
  }

  count(): Promise<number> {
    return this.images().count();
  }

  async ping(): Promise<void> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`database: ${this.dataSource.options.type} does not answer: ${reason}`, {
        cause: err,
      });
    }
  }

  private async upsertIn(
    manager: EntityManager,
    input: UpsertImageInput,
  ): Promise<UpsertImageResult> {
    // First: the counter's lock orders concurrent upserts, so each reads the one committed before
    // it, and replacedObjectName is the true orphan.
    const taken = await takeVersion(manager);
    const repo = manager.getRepository(ImageEntity);
    const previous = await repo.findOneBy({ key: input.key });
    const version = previous ? await versionAbove(manager, taken, previous.version) : taken;
    const now = new Date();
    const record: ImageRecord = {
      ...pick(input),
      version,
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    };
    if (previous) {
      const { objectName, contentType, byteSize, checksum, version, updatedAt } = record;
      await repo.update(
        { key: record.key },
        { objectName, contentType, byteSize, checksum, version, updatedAt },
      );
    } else {
      await repo.insert(record);
    }
    // In the row's transaction: a crash after the commit cannot lose the invalidation.
    const pending = await manager
      .getRepository(PendingInvalidationEntity)
      .insert({ key: record.key, version: record.version, createdAt: now });
    return {
      record,
      replacedObjectName: previous?.objectName ?? null,
      pendingInvalidationId: Number(pending.identifiers[0].id),
    };
  }

  private images(): Repository<ImageEntity> {
    return this.dataSource.getRepository(ImageEntity);
  }
}

function pick(input: UpsertImageInput): UpsertImageInput {
  const { key, objectName, contentType, byteSize, checksum } = input;
  return { key, objectName, contentType, byteSize, checksum };
}

function toRecord(row: ImageEntity): ImageRecord {
  return { ...pick(row), version: row.version, createdAt: row.createdAt, updatedAt: row.updatedAt };
}
