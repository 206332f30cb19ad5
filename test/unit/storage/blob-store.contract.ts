import { randomBytes } from 'node:crypto';
import { BlobStore } from '../../../src/storage/blob-store';
import { InvalidObjectNameError, newObjectName } from '../../../src/storage/object-name';

/** Every byte value, so an encoding slip (utf8, base64, line ends) shows. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

export const BAD_NAMES = [
  '',
  'a',
  '../../etc/passwd',
  '..',
  'ab/cd',
  'ab\\cd',
  '.hidden',
  'ABCDEF12',
  'name.png',
  'with space',
  'x'.repeat(129),
  'caf\u00e9',
  'nul\u0000byte',
];

/**
 * The behaviour every BlobStore adapter owes the app. `freshStore` must give an empty store that
 * no other test touches (a new folder, a new prefix).
 */
export function behavesLikeABlobStore(freshStore: () => Promise<BlobStore>): void {
  let sut: BlobStore;
  beforeEach(async () => {
    sut = await freshStore();
  });

  it('gives back exactly the bytes it was given, binary included', async () => {
    const small = newObjectName();
    const large = newObjectName();
    const body = randomBytes(1024 * 1024 + 7);
    await sut.put(small, ALL_BYTES, 'application/octet-stream');
    await sut.put(large, body, 'image/png');
    expect((await sut.get(small))?.equals(ALL_BYTES)).toBe(true);
    expect((await sut.get(large))?.equals(body)).toBe(true);
  });

  it('tells an empty object from a missing one', async () => {
    const name = newObjectName();
    await sut.put(name, Buffer.alloc(0), 'image/png');
    expect(await sut.get(name)).toEqual(Buffer.alloc(0));
    expect(await sut.get(newObjectName())).toBeNull();
  });

  it('returns null for an object never written', async () => {
    expect(await sut.get(newObjectName())).toBeNull();
  });

  it('replaces the bytes on overwrite', async () => {
    const name = newObjectName();
    await sut.put(name, Buffer.from('first version, longer than the second'), 'image/png');
    await sut.put(name, Buffer.from('second'), 'image/jpeg');
    expect((await sut.get(name))?.toString()).toBe('second');
  });

  it('deletes one object and leaves the others', async () => {
    const gone = newObjectName();
    const kept = newObjectName();
    await sut.put(gone, Buffer.from('a'), 'image/png');
    await sut.put(kept, Buffer.from('b'), 'image/png');
    await sut.delete(gone);
    expect(await sut.get(gone)).toBeNull();
    expect((await sut.get(kept))?.toString()).toBe('b');
  });

  it('deletes idempotently: twice, or a name never written', async () => {
    const name = newObjectName();
    await sut.put(name, Buffer.from('a'), 'image/png');
    await sut.delete(name);
    await expect(sut.delete(name)).resolves.toBeUndefined();
    await expect(sut.delete(newObjectName())).resolves.toBeUndefined();
  });

  it('deleteMany removes exactly the named objects, absent ones being no error', async () => {
    const names = Array.from({ length: 25 }, () => newObjectName());
    await Promise.all(names.map((n) => sut.put(n, Buffer.from(n), 'image/png')));
    const [kept, ...doomed] = names;
    await sut.deleteMany([...doomed, newObjectName()]);
    for (const n of doomed) expect(await sut.get(n)).toBeNull();
    expect((await sut.get(kept))?.toString()).toBe(kept);
    await expect(sut.deleteMany(doomed)).resolves.toBeUndefined();
  });

  it('lists every object with its modification time', async () => {
    const names = [newObjectName(), newObjectName(), newObjectName()];
    const before = Date.now() - 5000; // the store's clock may differ a little from ours
    for (const name of names) await sut.put(name, Buffer.from(name), 'image/png');
    const listed: { name: string; modifiedAt: Date }[] = [];
    for await (const page of sut.list()) listed.push(...page);
    expect(listed.map((o) => o.name).sort()).toEqual([...names].sort());
    for (const o of listed) expect(o.modifiedAt.getTime()).toBeGreaterThan(before);
  });

  it('deleteMany of no names, or of names never written, changes nothing', async () => {
    await expect(sut.deleteMany([])).resolves.toBeUndefined();
    await expect(sut.deleteMany([newObjectName()])).resolves.toBeUndefined();
  });

  it('keeps many objects written at once apart', async () => {
    const entries = Array.from(
      { length: 40 },
      (_, i) => [newObjectName(), randomBytes(100 + i)] as const,
    );
    await Promise.all(entries.map(([n, b]) => sut.put(n, b, 'image/png')));
    const back = await Promise.all(entries.map(([n]) => sut.get(n)));
    back.forEach((b, i) => expect(b?.equals(entries[i][1])).toBe(true));
  });

  it('answers ping when usable', async () => {
    await expect(sut.ping()).resolves.toBeUndefined();
  });

  it.each(BAD_NAMES.map((n) => [JSON.stringify(n), n]))(
    'refuses the name %s for put, get, delete and deleteMany',
    async (_label, name) => {
      await expect(sut.put(name, Buffer.from('x'), 'image/png')).rejects.toThrow(
        InvalidObjectNameError,
      );
      await expect(sut.get(name)).rejects.toThrow(InvalidObjectNameError);
      await expect(sut.delete(name)).rejects.toThrow(InvalidObjectNameError);
      await expect(sut.deleteMany([newObjectName(), name])).rejects.toThrow(InvalidObjectNameError);
    },
  );
}
