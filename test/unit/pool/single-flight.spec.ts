import { SingleFlight } from '../../../src/pool/single-flight';
import { deferred } from './fakes/deferred';

describe('SingleFlight', () => {
  let sut: SingleFlight<string>;
  beforeEach(() => (sut = new SingleFlight<string>()));

  it('gives concurrent callers of one key the result of a single run', async () => {
    const gate = deferred<string>();
    let runs = 0;
    const work = () => {
      runs++;
      return gate.promise;
    };

    const readers = [sut.run('k', work), sut.run('k', work), sut.run('k', work)];
    gate.resolve('image');

    expect(await Promise.all(readers)).toEqual(['image', 'image', 'image']);
    expect(runs).toBe(1);
  });

  it('hands the one error to every caller that shared the run', async () => {
    const gate = deferred<string>();
    const readers = [sut.run('k', () => gate.promise), sut.run('k', () => gate.promise)];
    gate.reject(new Error('storage down'));

    for (const reader of readers) await expect(reader).rejects.toThrow('storage down');
  });

  it('runs different keys separately', async () => {
    const seen: string[] = [];
    const [a, b] = await Promise.all([
      sut.run('a', async () => (seen.push('a'), 'A')),
      sut.run('b', async () => (seen.push('b'), 'B')),
    ]);
    expect([a, b]).toEqual(['A', 'B']);
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('starts a new run for a caller that comes after the previous one settled', async () => {
    let runs = 0;
    const work = async () => `run ${++runs}`;

    expect(await sut.run('k', work)).toBe('run 1');
    expect(await sut.run('k', work)).toBe('run 2');
    expect(sut.size).toBe(0);
  });

  it('starts a new run after a failed one (an error is not remembered)', async () => {
    await expect(sut.run('k', async () => Promise.reject(new Error('once')))).rejects.toThrow();
    await expect(sut.run('k', async () => 'fine')).resolves.toBe('fine');
  });

  describe('with a deadline', () => {
    const deadlineMs = 80;
    beforeEach(
      () =>
        (sut = new SingleFlight<string>({
          deadlineMs,
          onDeadline: (key) => new Error(`deadline for ${key}`),
        })),
    );

    it('stops a follower waiting at its deadline when the shared run never settles', async () => {
      const hung = deferred<string>();
      const leader = expect(sut.run('k', () => hung.promise)).rejects.toThrow('deadline for k');
      const started = Date.now();
      await expect(sut.run('k', () => hung.promise)).rejects.toThrow('deadline for k');
      expect(Date.now() - started).toBeLessThan(deadlineMs * 3);
      await leader;
    });

    it('lets a caller after the deadline start a fresh run instead of joining a hung one', async () => {
      const hung = deferred<string>();
      await expect(sut.run('k', () => hung.promise)).rejects.toThrow('deadline for k');
      expect(sut.size).toBe(0);
      expect(await sut.run('k', async () => 'fresh')).toBe('fresh');
      hung.resolve('late'); // a late answer of the old run changes nothing
      expect(sut.size).toBe(0);
    });
  });
});
