import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { constants as fsConstants, Dirent } from 'node:fs';
import * as path from 'node:path';
import { BlobStore, StoredObject } from './blob-store';
import { assertValidObjectName, HOURLY_NAME_PATTERN, isValidObjectName } from './object-name';

/**
 * Objects as files under one folder, fanned out so no folder grows to millions of entries: by
 * the upload hour of names that carry it (`2026120310/2026120310-…`, so listing one hour reads
 * one folder), by the first two characters of older names (`ab/abcdef…`).
 *
 * A put writes a hidden temp file in the target folder, syncs it and renames it over the final
 * name: rename is atomic within a file system, so a reader or a crash never finds a half-written
 * object under its real name. Temp names start with "." and hold a "." later on, which no object
 * name may, so they are never mistaken for objects.
 */
export class FsBlobStore implements BlobStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  async put(name: string, body: Buffer, _contentType: string): Promise<void> {
    const target = this.pathOf(name);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = path.join(path.dirname(target), `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await fs.open(temp, 'wx');
      try {
        await handle.writeFile(body);
        // The rename below must not outrun the data: without the sync a power cut could leave
        // the final name pointing at an empty file.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw new Error(`blob store: cannot write ${name} under ${this.dir}: ${message(err)}`, {
        cause: err,
      });
    }
  }

  async get(name: string): Promise<Buffer | null> {
    try {
      return await fs.readFile(this.pathOf(name));
    } catch (err) {
      if (isCode(err, 'ENOENT')) return null;
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    await fs.rm(this.pathOf(name), { force: true });
  }

  /** One page per fan-out folder; a prefix naming an hour reads that hour's folder only. */
  async *list(namePrefix = ''): AsyncIterable<StoredObject[]> {
    const hour = HOURLY_NAME_PATTERN.exec(namePrefix)?.[1];
    const folders = hour ? [path.join(this.dir, hour)] : await this.fanOutFolders();
    for (const folder of folders) {
      const page: StoredObject[] = [];
      for (const entry of await readDirOrEmpty(folder)) {
        if (!entry.isFile() || !isValidObjectName(entry.name)) continue;
        if (!entry.name.startsWith(namePrefix)) continue;
        try {
          const stat = await fs.stat(path.join(folder, entry.name));
          page.push({ name: entry.name, modifiedAt: stat.mtime });
        } catch (err) {
          if (!isCode(err, 'ENOENT')) throw err; // deleted since the readdir: not listed
        }
      }
      yield page;
    }
  }

  /** A few files at a time: one rm per object, without opening thousands of handles at once. */
  async deleteMany(names: readonly string[]): Promise<void> {
    const paths = names.map((name) => this.pathOf(name));
    for (let i = 0; i < paths.length; i += PARALLEL_DELETES) {
      await Promise.all(
        paths.slice(i, i + PARALLEL_DELETES).map((file) => fs.rm(file, { force: true })),
      );
    }
  }

  async ping(): Promise<void> {
    try {
      await fs.mkdir(this.dir, { recursive: true });
      await fs.access(this.dir, fsConstants.R_OK | fsConstants.W_OK);
    } catch (err) {
      throw new Error(`blob store: folder ${this.dir} is not usable: ${message(err)}`, {
        cause: err,
      });
    }
  }

  private pathOf(name: string): string {
    assertValidObjectName(name);
    const folder = HOURLY_NAME_PATTERN.exec(name)?.[1] ?? name.slice(0, 2);
    return path.join(this.dir, folder, name);
  }

  /** Only folders the store itself could have made, so a mis-set dir never loses foreign files. */
  private async fanOutFolders(): Promise<string[]> {
    const entries = await readDirOrEmpty(this.dir);
    return entries
      .filter((e) => e.isDirectory() && /^([a-z0-9][a-z0-9_-]|[0-9]{10})$/.test(e.name))
      .map((e) => path.join(this.dir, e.name));
  }
}

const PARALLEL_DELETES = 16;

async function readDirOrEmpty(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isCode(err, 'ENOENT')) return [];
    throw err;
  }
}

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === code;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
