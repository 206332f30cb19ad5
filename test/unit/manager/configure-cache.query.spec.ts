import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { ConfigureCacheQuery } from '../../../src/manager/course/configure-cache.query';
import { GetRateQuery } from '../../../src/manager/course/get-rate.query';
import { CacheSettingsDto } from '../../../src/manager/dto/cache-settings.dto';

/** The app's global pipe, applied as Nest applies it to @Query(). */
const pipe = new ValidationPipe({ whitelist: true, transform: true });

function parse<T>(metatype: new () => T, query: Record<string, unknown>): Promise<T> {
  return pipe.transform(query, { type: 'query', metatype }) as Promise<T>;
}

async function refusal(metatype: new () => object, query: Record<string, unknown>) {
  try {
    await parse(metatype, query);
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequestException);
    return ((err as BadRequestException).getResponse() as { message: string[] }).message;
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
}

describe('course query parameters', () => {
  it('reads the course’s spellings: strings to numbers, LRU/RR and modes in any case', async () => {
    const query = await parse(ConfigureCacheQuery, {
      mode: 'Auto',
      numNodes: '3',
      cacheSize: '12',
      policy: 'rr',
      expRatio: '2.0',
      shrinkRatio: '.5',
      maxMiss: '0.8',
      minMiss: '2e-1',
    });
    expect({ ...query }).toEqual({
      mode: 'auto',
      numNodes: 3,
      cacheSize: 12,
      policy: 'random',
      expRatio: 2,
      shrinkRatio: 0.5,
      maxMiss: 0.8,
      minMiss: 0.2,
    });
    expect((await parse(ConfigureCacheQuery, { policy: 'LRU' })).policy).toBe('lru');
    expect((await parse(ConfigureCacheQuery, { policy: 'Sieve' })).policy).toBe('sieve');
  });

  it('takes a parameter sent empty as not sent, and drops unknown ones', async () => {
    const query = await parse(ConfigureCacheQuery, { numNodes: '', policy: ' ', color: 'red' });
    expect({ ...query }).toEqual({});
  });

  it.each([
    [{ numNodes: '9' }, 'numNodes must be an integer in 1..8'],
    [{ numNodes: '0' }, 'numNodes must be an integer in 1..8'],
    [{ numNodes: '2.5' }, 'numNodes must be an integer in 1..8'],
    [{ numNodes: '3abc' }, 'numNodes must be an integer in 1..8'],
    [{ numNodes: '0x3' }, 'numNodes must be an integer in 1..8'],
    [{ numNodes: ['2', '3'] }, 'numNodes must be an integer in 1..8'],
    [{ cacheSize: '-1' }, 'cacheSize must be an integer (MB) in 1..65536'],
    [{ cacheSize: 'big' }, 'cacheSize must be an integer (MB) in 1..65536'],
    [{ policy: 'FIFO' }, 'policy must be LRU or RR (or sieve)'],
    [{ mode: 'sometimes' }, 'mode must be manual or auto'],
    [{ maxMiss: '1.5' }, 'maxMiss must be a number in 0..1'],
    [{ minMiss: 'NaN' }, 'minMiss must be a number in 0..1'],
    [{ expRatio: '0.5' }, 'expRatio must be a number in 1..8'],
    [{ shrinkRatio: 'Infinity' }, 'shrinkRatio must be a number in 0..1'],
  ])('refuses %j with one clear message', async (query, message) => {
    expect(await refusal(ConfigureCacheQuery, query)).toEqual([message]);
  });

  it('names every bad parameter of a request at once', async () => {
    expect(await refusal(ConfigureCacheQuery, { numNodes: '12', policy: 'MRU' })).toEqual([
      'numNodes must be an integer in 1..8',
      'policy must be LRU or RR (or sieve)',
    ]);
  });

  it('getRate wants rate=miss or rate=hit', async () => {
    expect((await parse(GetRateQuery, { rate: 'MISS' })).rate).toBe('miss');
    expect((await parse(GetRateQuery, { rate: 'hit' })).rate).toBe('hit');
    expect(await refusal(GetRateQuery, { rate: 'evictions' })).toEqual([
      'rate must be miss or hit',
    ]);
    expect(await refusal(GetRateQuery, {})).toEqual(['rate must be miss or hit']);
  });

  it('the dashboard’s JSON body takes numbers as numbers', async () => {
    const body = await pipe.transform(
      { capacityMb: 32, policy: 'RR' },
      { type: 'body', metatype: CacheSettingsDto },
    );
    expect({ ...body }).toEqual({ capacityMb: 32, policy: 'random' });
    await expect(
      pipe.transform({ capacityMb: 1.5 }, { type: 'body', metatype: CacheSettingsDto }),
    ).rejects.toThrow(BadRequestException);
  });
});
