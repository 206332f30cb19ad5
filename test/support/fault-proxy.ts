import * as net from 'node:net';

/**
 * What the proxy does with connections:
 * - pass: forward bytes both ways (after `delayMs`, if set);
 * - refuse: nothing listens on the port, so connects fail with ECONNREFUSED;
 * - reset: accept, then reset (RST) at once;
 * - stall: accept and never forward a byte (the peer waits until its own deadline);
 * - blackhole: like stall, and connections already open stop forwarding too.
 */
export type FaultMode = 'pass' | 'refuse' | 'reset' | 'stall' | 'blackhole';

export interface FaultSettings {
  mode: FaultMode;
  /** Added before each chunk is forwarded, in both directions. */
  delayMs?: number;
  /**
   * Share of new connections the mode applies to (0..1, default 1); the others pass. Lets a test
   * reset or stall "a share of a node's connections".
   */
  fraction?: number;
}

export interface FaultProxy {
  /** Where clients connect: 127.0.0.1 or the given host, and the proxy's port. */
  host: string;
  port: number;
  /** host:port of the proxy. */
  address: string;
  /** Change the behaviour for new connections (and open ones, for `blackhole` and `delayMs`). */
  set(settings: FaultSettings | FaultMode): Promise<void>;
  /** Destroy every open connection (both sides), as a crashed middlebox would. */
  cutAll(): void;
  /** Connections accepted since start. */
  accepted(): number;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
  held: boolean;
}

/**
 * A TCP relay for fault tests, between the app and MariaDB, the S3-protocol server or cache nodes.
 * The kernel here has no netem, so latency, refusals, resets and stalls are made in user space.
 */
export async function startFaultProxy(options: {
  target: { host: string; port: number };
  /** Listen address (default 127.0.0.1); a namespace test may pass its own. */
  host?: string;
  /** Default 0 (a free port); the port is kept across refuse → pass. */
  port?: number;
  settings?: FaultSettings | FaultMode;
}): Promise<FaultProxy> {
  const host = options.host ?? '127.0.0.1';
  let settings: FaultSettings = normalise(options.settings ?? 'pass');
  const pairs = new Set<Pair>();
  let accepted = 0;
  let server: net.Server | null = null;
  let port = options.port ?? 0;

  const forward = (from: net.Socket, to: () => net.Socket | null, pair: Pair) => {
    from.on('data', (chunk: Buffer) => {
      if (settings.mode === 'blackhole' || pair.held) return;
      const send = () => {
        const target = to();
        if (target && !target.destroyed && settings.mode !== 'blackhole') target.write(chunk);
      };
      const delay = settings.delayMs ?? 0;
      if (delay > 0) {
        // Keep order: pause the source while a delayed chunk is in flight.
        from.pause();
        setTimeout(() => {
          send();
          from.resume();
        }, delay);
      } else {
        send();
      }
    });
  };

  const onConnection = (client: net.Socket) => {
    accepted += 1;
    const applies = Math.random() < (settings.fraction ?? 1);
    const mode = applies ? settings.mode : 'pass';
    client.on('error', () => undefined);
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: null, held: mode === 'stall' || mode === 'blackhole' };
    pairs.add(pair);
    client.on('close', () => {
      pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (pair.held) return;
    const upstream = net.connect(options.target.port, options.target.host);
    pair.upstream = upstream;
    // A blackhole passes nothing, not even the upstream's close: the client cannot tell it died.
    const closeClient = () => settings.mode !== 'blackhole' && client.destroy();
    upstream.on('error', closeClient);
    upstream.on('close', closeClient);
    forward(client, () => upstream, pair);
    forward(upstream, () => client, pair);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer(onConnection);
      s.once('error', reject);
      s.listen(port, host, () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const unlisten = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      const s = server;
      server = null;
      s.close(() => resolve());
    });

  // Listen once even when starting refused, so the port is chosen and kept.
  await listen();
  if (settings.mode === 'refuse') await unlisten();

  const proxy: FaultProxy = {
    host,
    get port() {
      return port;
    },
    get address() {
      return `${host}:${port}`;
    },
    async set(next) {
      const wasBlackhole = settings.mode === 'blackhole';
      settings = normalise(next);
      // Bytes were dropped on open connections: they cannot carry on as if nothing happened.
      if (wasBlackhole && settings.mode !== 'blackhole') proxy.cutAll();
      if (settings.mode === 'refuse') {
        // Cut before waiting: server.close() resolves only once every connection has ended.
        const closing = unlisten();
        proxy.cutAll();
        await closing;
      } else if (!server) {
        await listen();
      }
    },
    cutAll() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      pairs.clear();
    },
    accepted: () => accepted,
    async close() {
      proxy.cutAll();
      await unlisten();
    },
  };
  return proxy;
}

function normalise(settings: FaultSettings | FaultMode): FaultSettings {
  const s = typeof settings === 'string' ? { mode: settings } : { ...settings };
  if (s.fraction !== undefined && (s.fraction < 0 || s.fraction > 1)) {
    throw new Error(`fraction must be in 0..1, got ${s.fraction}`);
  }
  return s;
}
