/*
 * The cache node against memcached 1.6 in one run, on this machine.
 *
 * Throughput: GET and PUT of 4 KiB and 64 KiB values over 64 keep-alive connections, each with one
 * request in flight, a fixed number of requests per case, three rounds alternating which server
 * goes first; the median round is reported. Both servers are driven by the same driver over raw
 * sockets: requests are pre-encoded bytes and responses are framed by one shared reader that only
 * finds the head and skips the body's length. A library client (node:http for the node, memjs for
 * memcached) would measure the clients more than the servers, and unequally: memjs pipelines
 * everything over one socket, node:http allocates objects per request.
 * memcached runs with 2 worker threads (-t 2): the machine has 2 cores, which the driver also
 * uses; the node is single-threaded by design (one process per pool member).
 * A third server, the floor, is the least any node:http server can do (GET answers a constant
 * buffer, PUT reads and drops the body): node / floor shows what the cache itself costs, and
 * floor / memcached what node:http costs against a C server.
 *
 * Memory: a node with --capacity-mb 256 receives 1.25 × capacity of 64 KiB values (so it evicts),
 * then its RSS (VmRSS) is compared with the goal RSS ≤ 1.15 × capacity + 80 MB.
 *
 * Loads the compiled node from dist/ (`npm run bench` builds first), or from $PIXPOOL_DIST.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const DIST = process.env.PIXPOOL_DIST || path.join(__dirname, '..', 'dist');
const NODE_MAIN = path.join(DIST, 'src', 'cache-node', 'main.js');
const MEMCACHED = '/usr/bin/memcached';
const CONNECTIONS = 64;
const KEYS = 1000;
const ROUNDS = 3;
const CASES = [
  { op: 'GET', size: 4 * 1024, requests: 40_000 },
  { op: 'GET', size: 64 * 1024, requests: 12_000 },
  { op: 'PUT', size: 4 * 1024, requests: 40_000 },
  { op: 'PUT', size: 64 * 1024, requests: 12_000 },
];
const MIB = 1024 * 1024;

module.exports = { title: 'Cache node vs memcached', run };

async function run() {
  if (!fs.existsSync(NODE_MAIN))
    throw new Error(`${NODE_MAIN} is missing: build first (npm run bench does)`);
  const cleanups = [];
  const stopAll = () => cleanups.forEach((stop) => stop());
  process.once('exit', stopAll);
  try {
    const node = await startNode(['--capacity-mb', '1024'], cleanups);
    const floor = await startFloor(cleanups);
    const memcached = await startMemcached(cleanups);
    const servers = [
      { name: 'pixpool node', port: node.port, protocol: HTTP },
      { name: 'node:http floor', port: floor.port, protocol: HTTP },
      { name: 'memcached', port: memcached.port, protocol: MEMCACHE },
    ];
    const load = require('node:os').loadavg()[0];
    const rows = [];
    for (const testCase of CASES) rows.push(await compare(testCase, servers));
    const memory = await measureRss(cleanups);
    return report(rows, memory, load);
  } finally {
    stopAll();
    process.removeListener('exit', stopAll);
  }
}

/** Runs one case on every server, ROUNDS times rotating the order; medians per server. */
async function compare(testCase, servers) {
  const value = Buffer.alloc(testCase.size, 0x5a);
  for (const server of servers) await preload(server, value); // GETs must hit, PUTs overwrite
  const results = new Map(servers.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const server of order) {
      await drive(server, testCase.op, value, Math.min(5_000, testCase.requests / 4)); // warm-up
      results.get(server.name).push(await drive(server, testCase.op, value, testCase.requests));
    }
  }
  const median = (list) =>
    [...list].sort((a, b) => a.opsPerSec - b.opsPerSec)[Math.floor(list.length / 2)];
  const [node, floor, memcached] = servers.map((server) => median(results.get(server.name)));
  return { testCase, node, floor, memcached };
}

async function preload(server, value) {
  const result = await drive(server, 'PUT', value, KEYS, true);
  if (result.errors > 0)
    throw new Error(`${server.name}: ${result.errors} errors while preloading`);
}

/**
 * `requests` requests over CONNECTIONS sockets, one in flight each, keys in turn. Resolves with
 * ops/s, latency percentiles and how many answers were not the expected success.
 */
function drive(server, op, value, requests, sequentialKeys = false) {
  const { protocol } = server;
  const encoded = Array.from({ length: KEYS }, (_, i) =>
    op === 'GET' ? protocol.get(keyName(i)) : protocol.putHead(keyName(i), value.length),
  );
  const latencies = new Float64Array(requests);
  let issued = 0;
  let done = 0;
  let errors = 0;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const sockets = [];
    const finish = () => {
      const ms = performance.now() - started;
      for (const socket of sockets) socket.destroy();
      latencies.sort();
      const at = (q) => latencies[Math.min(requests - 1, Math.floor(q * requests))];
      resolve({ opsPerSec: (requests / ms) * 1000, p50: at(0.5), p99: at(0.99), errors, ms });
    };
    for (let c = 0; c < Math.min(CONNECTIONS, requests); c++) {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.setNoDelay(true);
      sockets.push(socket);
      let sentAt = 0;
      let current = -1;
      const send = () => {
        if (issued >= requests) return;
        current = issued++;
        const k = sequentialKeys ? current % KEYS : (current * 7919) % KEYS;
        sentAt = performance.now();
        if (op === 'GET') socket.write(encoded[k]);
        else {
          socket.cork();
          socket.write(encoded[k]);
          socket.write(value);
          if (protocol.putTail) socket.write(protocol.putTail);
          socket.uncork();
        }
      };
      const reader = new ResponseReader(protocol, op, (ok) => {
        latencies[current] = performance.now() - sentAt;
        if (!ok) errors++;
        if (++done === requests) finish();
        else send();
      });
      socket.on('data', (chunk) => reader.push(chunk));
      socket.on('error', reject);
      socket.on('connect', send);
    }
  });
}

/**
 * Frames responses: accumulates the head until the protocol's terminator, asks the protocol for
 * the body length, then counts body bytes without copying them. Shared by both protocols.
 */
class ResponseReader {
  constructor(protocol, op, onResponse) {
    this.protocol = protocol;
    this.op = op;
    this.onResponse = onResponse;
    this.head = null;
    this.bodyLeft = -1;
    this.ok = false;
  }

  push(chunk) {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.bodyLeft < 0) {
        const data = this.head
          ? Buffer.concat([this.head, chunk.subarray(offset)])
          : chunk.subarray(offset);
        const end = data.indexOf(this.protocol.headEnd);
        if (end < 0) {
          this.head = Buffer.from(data);
          return;
        }
        const headLength = end + this.protocol.headEnd.length;
        const consumed = headLength - (this.head ? this.head.length : 0);
        const parsed = this.protocol.parseHead(data.subarray(0, headLength), this.op);
        this.head = null;
        this.ok = parsed.ok;
        this.bodyLeft = parsed.bodyLength;
        offset += consumed;
      }
      const take = Math.min(this.bodyLeft, chunk.length - offset);
      this.bodyLeft -= take;
      offset += take;
      if (this.bodyLeft === 0) {
        this.bodyLeft = -1;
        this.onResponse(this.ok);
      }
    }
  }
}

const HTTP = {
  get: (key) => Buffer.from(`GET /v1/keys/${key}?region=0 HTTP/1.1\r\nHost: bench\r\n\r\n`),
  putHead: (key, length) =>
    Buffer.from(
      `PUT /v1/keys/${key}?region=0&version=1 HTTP/1.1\r\nHost: bench\r\n` +
        `Content-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`,
    ),
  putTail: null,
  headEnd: Buffer.from('\r\n\r\n'),
  parseHead(head, op) {
    const status = head.toString('latin1', 9, 12);
    const at = head.indexOf('content-length: ');
    const bodyLength =
      at < 0 ? 0 : parseInt(head.toString('latin1', at + 16, head.indexOf('\r', at)), 10);
    return { ok: status === (op === 'GET' ? '200' : '204'), bodyLength };
  },
};

const MEMCACHE = {
  get: (key) => Buffer.from(`get ${key}\r\n`),
  putHead: (key, length) => Buffer.from(`set ${key} 0 0 ${length}\r\n`),
  putTail: Buffer.from('\r\n'),
  headEnd: Buffer.from('\r\n'),
  parseHead(head, op) {
    if (op === 'PUT') return { ok: head.toString('latin1', 0, 6) === 'STORED', bodyLength: 0 };
    if (head[0] !== 0x56 /* V */) return { ok: false, bodyLength: 0 }; // END: a miss
    const line = head.toString('latin1', 0, head.length - 2);
    return { ok: true, bodyLength: parseInt(line.slice(line.lastIndexOf(' ') + 1), 10) + 7 }; // data\r\nEND\r\n
  },
};

function keyName(i) {
  return `bench-${String(i).padStart(6, '0')}`;
}

/**
 * The least a node:http server can do for these requests: PUT reads and drops the body (keeping
 * only its length per key), GET answers a constant buffer of that length.
 */
const FLOOR_SERVER = `
const http = require('node:http');
const lengths = new Map();
const constants = new Map();
const server = http.createServer({ noDelay: true }, (req, res) => {
  const key = req.url.slice(0, req.url.indexOf('?'));
  if (req.method === 'PUT') {
    lengths.set(key, Number(req.headers['content-length']));
    req.on('data', () => {});
    req.on('end', () => { res.writeHead(204); res.end(); });
    return;
  }
  const length = lengths.get(key) ?? 0;
  let value = constants.get(length);
  if (!value) constants.set(length, (value = Buffer.alloc(length, 0x5a)));
  res.writeHead(200, ['content-type', 'application/octet-stream', 'content-length', String(length)]);
  res.end(value);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('floor listening on http://127.0.0.1:' + server.address().port));
process.on('disconnect', () => process.exit(0));
`;

async function startFloor(cleanups) {
  return startProcess(['-e', FLOOR_SERVER], cleanups);
}

async function startNode(args, cleanups) {
  const node = await startProcess([NODE_MAIN, '--port', '0', ...args], cleanups);
  // A node owns nothing until told (a restarted one must not serve): give it every region.
  const res = await fetch(`http://127.0.0.1:${node.port}/v1/ownership`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ epoch: 1, regions: Array.from({ length: 16 }, (_, r) => r) }),
  });
  if (!res.ok) throw new Error(`could not give the node its regions: ${res.status}`);
  return node;
}

async function startProcess(argv, cleanups) {
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, PIXPOOL_NODE_SECRET: '' },
  });
  cleanups.push(() => child.kill('SIGKILL'));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const ready = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (ready) resolve(Number(ready[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  return { port, pid: child.pid };
}

async function startMemcached(cleanups) {
  const port = await freePort();
  const child = spawn(
    MEMCACHED,
    [
      '-p',
      String(port),
      '-U',
      '0',
      '-l',
      '127.0.0.1',
      '-m',
      '1024',
      '-t',
      '2',
      '-c',
      '4096',
      '-u',
      'root',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  cleanups.push(() => child.kill('SIGKILL'));
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await canConnect(port)) return { port };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('memcached did not start');
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function measureRss(cleanups) {
  const capacityMb = 256;
  const node = await startNode(['--capacity-mb', String(capacityMb)], cleanups);
  const value = Buffer.alloc(64 * 1024, 0x33);
  const puts = Math.ceil((1.25 * capacityMb * MIB) / value.length);
  const server = { name: 'pixpool node', port: node.port, protocol: HTTP };
  // Distinct keys beyond KEYS: drive() cycles through KEYS keys, so fill in batches of KEYS.
  let errors = 0;
  for (let batch = 0; batch * KEYS < puts; batch++) {
    const offset = batch * KEYS;
    const count = Math.min(KEYS, puts - offset);
    const batchServer = {
      ...server,
      protocol: { ...HTTP, putHead: (key, length) => HTTP.putHead(`${offset}-${key}`, length) },
    };
    errors += (await drive(batchServer, 'PUT', value, count, true)).errors;
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const status = fs.readFileSync(`/proc/${node.pid}/status`, 'utf8');
  const rssBytes = Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
  const stats = await httpJson(node.port, '/v1/stats');
  return { capacityBytes: capacityMb * MIB, puts, errors, rssBytes, stats };
}

function httpJson(port, pathname) {
  return new Promise((resolve, reject) => {
    require('node:http')
      .get({ host: '127.0.0.1', port, path: pathname }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

function report(rows, memory, load) {
  const f = (n, digits = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const lat = (r) => `${f(r.p50, 2)} / ${f(r.p99, 2)}`;
  const lines = [
    `64 connections, one request in flight each, median of ${ROUNDS} rounds; memcached ${memcachedVersion()} with -t 2. ` +
      `Goal: node ≥ 0.7 × memcached ops/s. Latencies p50 / p99 in ms. Load average at start: ${load.toFixed(2)} ` +
      '(other processes on the machine skew the absolute figures; the ratios come from interleaved rounds).',
    '',
    '| case | requests | node ops/s (p50 / p99) | node:http floor ops/s (p50 / p99) | memcached ops/s (p50 / p99) | node / memcached | node / floor | floor / memcached |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { testCase, node, floor, memcached } of rows) {
    const errors = node.errors + floor.errors + memcached.errors;
    lines.push(
      `| ${testCase.op} ${testCase.size / 1024} KiB | ${f(testCase.requests)} | ${f(node.opsPerSec)} (${lat(node)}) | ` +
        `${f(floor.opsPerSec)} (${lat(floor)}) | ${f(memcached.opsPerSec)} (${lat(memcached)}) | ` +
        `**${f(node.opsPerSec / memcached.opsPerSec, 2)}×** | ${f(node.opsPerSec / floor.opsPerSec, 2)}× | ` +
        `${f(floor.opsPerSec / memcached.opsPerSec, 2)}×${errors ? ` (${errors} errors!)` : ''} |`,
    );
  }
  const limit = 1.15 * memory.capacityBytes + 80e6;
  const mb = (bytes) => f(bytes / 1e6, 1);
  lines.push(
    '',
    `Memory: capacity ${memory.capacityBytes / MIB} MiB, ${f(memory.puts)} PUTs of 64 KiB (${memory.errors} errors) → ` +
      `${f(memory.stats.items)} items, ${mb(memory.stats.bytesUsed)} MB charged, ${f(memory.stats.sinceStart.evictions)} evictions.`,
    '',
    '| capacity | RSS | RSS / capacity | goal: 1.15 × capacity + 80 MB | |',
    '|---:|---:|---:|---:|---|',
    `| ${mb(memory.capacityBytes)} MB | ${mb(memory.rssBytes)} MB | ${f(memory.rssBytes / memory.capacityBytes, 2)} | ` +
      `${mb(limit)} MB | ${memory.rssBytes <= limit ? 'met' : '**missed**'} |`,
  );
  return lines.join('\n');
}

function memcachedVersion() {
  try {
    return require('node:child_process')
      .execFileSync(MEMCACHED, ['-V'])
      .toString()
      .trim()
      .replace('memcached ', '');
  } catch {
    return '1.6';
  }
}
