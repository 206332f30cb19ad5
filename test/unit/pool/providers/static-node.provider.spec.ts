import { nodeHealthProbe } from '../../../../src/pool/providers/node-health-probe';
import { StaticNodeProvider } from '../../../../src/pool/providers/static-node.provider';
import { spawnCacheNode, SpawnedCacheNode } from '../../../support/spawn-cache-node';

const SECRET = 'static-provider-secret-padded-to-32-characters';

/** The probe the app uses: the node's /health, with the pool's secret. */
const probe = nodeHealthProbe(SECRET, 1000);

const hostPort = (node: SpawnedCacheNode) => `127.0.0.1:${node.port}`;
const endpointOf = (node: SpawnedCacheNode) => ({
  id: `static-127.0.0.1:${node.port}`,
  url: `http://127.0.0.1:${node.port}`,
});

describe('StaticNodeProvider against real nodes', () => {
  let first: SpawnedCacheNode;
  let second: SpawnedCacheNode;
  /** host:port where a node ran and was stopped: nothing answers there. */
  let stoppedHostPort: string;
  let sut: StaticNodeProvider;

  beforeAll(async () => {
    const nodes = await Promise.all(
      [1, 2, 3].map(() => spawnCacheNode({ secret: SECRET, capacityMb: 1 })),
    );
    [first, second] = nodes;
    stoppedHostPort = hostPort(nodes[2]);
    await nodes[2].stop();
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });
  beforeEach(() => {
    sut = new StaticNodeProvider([hostPort(first), hostPort(second)], probe);
  });

  it('takes nodes into use in list order and refuses when none is left', async () => {
    await expect(sut.capacity()).resolves.toBe(2);

    await expect(sut.start(1)).resolves.toEqual([endpointOf(first)]);
    await expect(sut.start(1)).resolves.toEqual([endpointOf(second)]);
    await expect(sut.start(1)).rejects.toThrow(
      'static pool has 0 usable unused node(s), 1 requested',
    );

    await expect(sut.list()).resolves.toEqual([endpointOf(first), endpointOf(second)]);
  });

  it('hands a stopped node back for the next start, without killing it', async () => {
    await sut.start(2);

    await sut.stop([endpointOf(first).id]);

    await expect(sut.list()).resolves.toEqual([endpointOf(second)]);
    await expect(probe(endpointOf(first).url)).resolves.toBe(true);
    await expect(sut.start(1)).resolves.toEqual([endpointOf(first)]);
  });

  it('adopts the set another instance uses, ignoring ids it does not know', async () => {
    await sut.start(1);

    sut.adopt([endpointOf(second).id, 'static-elsewhere:5001']);

    await expect(sut.list()).resolves.toEqual([endpointOf(second)]);
    await expect(sut.start(1)).resolves.toEqual([endpointOf(first)]);
    await expect(sut.start(1)).rejects.toThrow(/0 usable unused/);
  });

  it('fails to start a node that does not answer, naming it, and takes none into use', async () => {
    sut = new StaticNodeProvider([stoppedHostPort, hostPort(first)], probe);

    await expect(sut.start(2)).rejects.toThrow(`not answering /health: http://${stoppedHostPort}`);
    await expect(sut.list()).resolves.toEqual([]);
  });

  it('skips a dead spare and takes the healthy node after it', async () => {
    sut = new StaticNodeProvider([stoppedHostPort, hostPort(first)], probe);

    const started = await sut.start(1);

    expect(started.map((n) => n.url)).toEqual([first.url]);
  });

  it('rejects a list entry that is not host:port', () => {
    expect(() => new StaticNodeProvider(['http://a:1'], probe)).toThrow(
      'pool.staticNodes: "http://a:1" is not host:port',
    );
  });
});
