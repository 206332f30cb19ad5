import { ArgsError, parseArgs } from '../../../src/cache-node/args';

describe('cache node arguments', () => {
  it('defaults to port 5001 on loopback, 64 MiB, LRU, no secret', () => {
    const sut = parseArgs([], {});
    expect(sut).toMatchObject({
      port: 5001,
      host: '127.0.0.1',
      capacityBytes: 64 * 1024 * 1024,
      policy: 'lru',
    });
    expect(sut.secret).toBeUndefined();
  });

  it('reads options in both --name value and --name=value forms, the secret from the env only', () => {
    const sut = parseArgs(
      ['--port=0', '--host', '0.0.0.0', '--capacity-mb', '1.5', '--policy', 'sieve'],
      {
        PIXPOOL_NODE_SECRET: 's3cret',
      },
    );
    expect(sut).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      capacityBytes: 1.5 * 1024 * 1024,
      policy: 'sieve',
      secret: 's3cret',
    });
  });

  it.each([
    [['--host', '0.0.0.0'], /without a secret/],
    [['--host', '10.0.0.5'], /without a secret/],
    [['--secret', 'x'], /PIXPOOL_NODE_SECRET/],
    [['--port', '70000'], /--port/],
    [['--port', 'abc'], /--port/],
    [['--capacity-mb', '-1'], /--capacity-mb/],
    [['--policy', 'lfu'], /--policy/],
    [['--bogus', '1'], /unknown option --bogus/],
    [['--port'], /needs a value/],
    [['stray'], /unexpected argument/],
  ])('refuses %j with a message naming the problem', (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(ArgsError);
    expect(() => parseArgs(argv, {})).toThrow(message);
  });

  it('accepts any loopback address without a secret', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) {
      expect(parseArgs(['--host', host], {}).host).toBe(host);
    }
  });
});
