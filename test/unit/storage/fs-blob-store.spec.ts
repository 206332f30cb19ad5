import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsBlobStore } from '../../../src/storage/fs-blob-store';
import { newObjectName } from '../../../src/storage/object-name';
import { behavesLikeABlobStore } from './blob-store.contract';

const roots: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-fs-blobs-'));
  roots.push(dir);
  return dir;
}
afterAll(() => roots.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Every file under dir, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('FsBlobStore', () => {
  // A folder that does not exist yet: the store must create it on demand.
  behavesLikeABlobStore(async () => new FsBlobStore(path.join(tempDir(), 'data', 'blobs')));

  it('creates its folder on first write and fans out by upload hour (older names: first two characters)', async () => {
    const dir = path.join(tempDir(), 'blobs');
    const sut = new FsBlobStore(dir);
    const name = newObjectName(new Date('2026-12-03T10:59:59Z'));
    const older = 'ab'.repeat(16); // a name from before names carried their hour
    await sut.put(name, Buffer.from('x'), 'image/png');
    await sut.put(older, Buffer.from('y'), 'image/png');
    expect(name).toMatch(/^2026120310-[0-9a-f]{32}$/);
    expect(filesUnder(dir)).toEqual([path.join('2026120310', name), path.join('ab', older)]);
    const listed = async (prefix?: string): Promise<string[]> => {
      const names: string[] = [];
      for await (const page of sut.list(prefix)) names.push(...page.map((o) => o.name));
      return names.sort();
    };
    expect(await listed()).toEqual([name, older]);
    expect(await listed('2026120310-')).toEqual([name]);
    expect(await listed('2026120311-')).toEqual([]);
  });

  it('leaves no temp file behind after writes and overwrites', async () => {
    const dir = tempDir();
    const sut = new FsBlobStore(dir);
    const names = Array.from({ length: 10 }, () => newObjectName());
    for (const n of names) await sut.put(n, Buffer.from('1'), 'image/png');
    await Promise.all(names.map((n) => sut.put(n, Buffer.from('2'), 'image/png')));
    expect(filesUnder(dir)).toEqual(names.map((n) => path.join(n.slice(0, 10), n)).sort());
  });

  it('never shows a reader a half-written object while it is overwritten', async () => {
    const sut = new FsBlobStore(tempDir());
    const name = newObjectName();
    const size = 8 * 1024 * 1024;
    const before = Buffer.alloc(size, 0xaa);
    const after = Buffer.alloc(size, 0x55);
    await sut.put(name, before, 'image/png');

    let writing = true;
    const seen = { before: 0, after: 0, torn: 0 };
    const reader = async (): Promise<void> => {
      while (writing) {
        const got = await sut.get(name);
        if (got?.equals(before)) seen.before += 1;
        else if (got?.equals(after)) seen.after += 1;
        else seen.torn += 1;
      }
    };
    const readers = [reader(), reader()];
    await sut.put(name, after, 'image/png');
    writing = false;
    await Promise.all(readers);

    expect(seen.torn).toBe(0);
    expect(seen.before + seen.after).toBeGreaterThan(0);
    expect((await sut.get(name))?.equals(after)).toBe(true);
  });

  it('does not take the temp file of a put in flight for the object', async () => {
    const dir = tempDir();
    const sut = new FsBlobStore(dir);
    const name = newObjectName();
    const folder = path.join(dir, name.slice(0, 2));
    fs.mkdirSync(folder, { recursive: true });
    const inFlight = path.join(folder, `.${name}.0a1b2c3d4e5f.tmp`);
    fs.writeFileSync(inFlight, 'half an ima');

    expect(await sut.get(name)).toBeNull();
    await sut.deleteMany([name]);
    expect(filesUnder(dir)).toEqual([path.relative(dir, inFlight)]);
  });

  it('writes nothing anywhere for a name that is a path', async () => {
    const dir = tempDir();
    const sut = new FsBlobStore(path.join(dir, 'blobs'));
    await expect(sut.put('../escaped', Buffer.from('x'), 'image/png')).rejects.toThrow();
    expect(filesUnder(dir)).toEqual([]);
  });

  it('fails ping with the folder in the message when the folder cannot exist', async () => {
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'not a folder');
    const sut = new FsBlobStore(path.join(file, 'blobs'));
    await expect(sut.ping()).rejects.toThrow(`folder ${path.join(file, 'blobs')} is not usable`);
  });

  it('fails a write with the name and folder in the message when the folder cannot exist', async () => {
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'not a folder');
    const sut = new FsBlobStore(path.join(file, 'blobs'));
    await expect(sut.put(newObjectName(), Buffer.from('x'), 'image/png')).rejects.toThrow(
      /ENOTDIR/,
    );
  });
});
