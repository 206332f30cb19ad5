/*
 * The app's read path for 64 KiB images, against nginx serving the same files, in one run:
 *   - upload throughput (autocannon, a fixed count of distinct keys),
 *   - uncached GET /images/:key (every key read once right after DELETE /api/clear/cache: each
 *     request is a miss that reads row + blob and fills the owner node),
 *   - cached GET /images/:key (the same keys again, all hits),
 *   - nginx (Debian's, 2 workers = this machine's cores) serving the same bytes as static files.
 * GETs at 64 connections: wrk for 10 s rotating over the keys (cached, nginx); autocannon with a
 * fixed count for the uncached case, each key requested exactly once.
 * Then the cost of moving cached images on a resize: 256 MiB of 64 KiB images cached on one node,
 * grow 1 → 2 (balanced moves 8 of 16 regions) and shrink 2 → 1, time and bytes as the app logs them.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startApp, uploadMany, makePng, multipartUpload } = require('./support/app');
const { wrk, fixedCount, fixedUploads, requireWrk } = require('./support/wrk');

const NODE_SECRET = 'bench-node-secret-padded-to-32-characters';

const NGINX = '/usr/sbin/nginx';
const KEYS = Array.from({ length: 2000 }, (_, i) => `img-${i}`);
const IMAGE_BYTES = 64 * 1024;
const SECONDS = 10;
const NODE_PORT = 25001; // the app's one local cache node
const MOVE_IMAGES = 4096; // × 64 KiB = 256 MiB

module.exports = { title: 'Read path: cached vs uncached vs nginx (64 KiB images)', run };

async function run() {
  requireWrk();
  if (!fs.existsSync(NGINX)) throw new Error('nginx is missing: apt-get install nginx');
  const lines = [];
  const app = await startApp({
    PIXPOOL_CACHE_CAPACITY_MB: '1024',
    PIXPOOL_POOL_BASE_PORT: String(NODE_PORT),
    // The proxy floor reads the app's node directly, so it must know the node secret.
    PIXPOOL_SECURITY_NODE_SECRET: NODE_SECRET,
  });
  let nginx;
  let floor;
  let proxy;
  try {
    const bodies = Array.from({ length: 1000 }, (_, i) =>
      multipartUpload(`upload-${i}`, makePng(IMAGE_BYTES)),
    );
    const uploads = await fixedUploads(app.url, bodies);
    await uploadMany(app.url, KEYS, IMAGE_BYTES);
    const paths = KEYS.map((k) => `/images/${k}`);
    nginx = await startNginx(app.url, KEYS);

    await fetch(`${app.url}/api/clear/cache`, { method: 'DELETE' });
    const uncached = await fixedCount(app.url, paths);
    const cached = await wrk(app.url, paths, { seconds: SECONDS });
    const files = KEYS.map((k) => `/${k}.png`);
    const viaNginx = await wrk(nginx.url, files, { seconds: SECONDS });
    floor = await startFloor(nginx.root, KEYS);
    const viaFloor = await wrk(floor.url, files, { seconds: SECONDS });
    proxy = await startProxyFloor(NODE_PORT);
    const viaProxy = await wrk(proxy.url, paths, { seconds: SECONDS });
    const row = (name, load, r) =>
      `| ${name} | ${load} | ${r.total} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.non2xx} |`;
    lines.push(
      `Upload (autocannon, ${uploads.total} distinct keys × 64 KiB PNG, 16 connections, SQLite + files): ` +
        `**${uploads.rps.toFixed(0)} uploads/s**, p50 ${uploads.p50}, p99 ${uploads.p99}, non-2xx ${uploads.non2xx}.`,
      '',
      '| GET, 64 connections | load | requests | req/s | p50 | p99 | non-2xx |',
      '|---|---|---|---|---|---|---|',
      row('nginx static file', `wrk ${SECONDS} s`, viaNginx),
      row('node:http floor: bytes from memory, no work', `wrk ${SECONDS} s`, viaFloor),
      row(
        'node:http proxy floor: each GET forwarded to the cache node, no work',
        `wrk ${SECONDS} s`,
        viaProxy,
      ),
      row('pixpool cached (pool hit)', `wrk ${SECONDS} s`, cached),
      row('pixpool uncached (miss: row + blob + fill)', 'autocannon, each key once', uncached),
      '',
      `Cached / nginx: **${(cached.rps / viaNginx.rps).toFixed(2)}×** (goal ≥ 0.5). ` +
        `Cached / uncached: **${(cached.rps / uncached.rps).toFixed(1)}×** (goal ≥ 5). ` +
        `The floor (a Node process that only answers the same bytes from memory) reaches ` +
        `${(viaFloor.rps / viaNginx.rps).toFixed(2)}× nginx; pixpool's hit path, one hop to a node more, ` +
        `${(cached.rps / viaFloor.rps).toFixed(2)}× the floor. A Node process that does nothing but forward ` +
        `each GET to the cache node (the one hop a look-aside pool needs) reaches ` +
        `${(viaProxy.rps / viaNginx.rps).toFixed(2)}× nginx; pixpool's hit path is ` +
        `${(cached.rps / viaProxy.rps).toFixed(2)}× of that.`,
    );
  } finally {
    nginx?.stop();
    floor?.stop();
    proxy?.stop();
    await app.stop();
  }
  lines.push('', ...(await moveBench()));
  return lines.join('\n');
}

async function moveBench() {
  const app = await startApp({ PIXPOOL_CACHE_CAPACITY_MB: '512', PIXPOOL_POOL_BASE_PORT: '25101' });
  try {
    const keys = Array.from({ length: MOVE_IMAGES }, (_, i) => `move-${i}`);
    await uploadMany(app.url, keys, IMAGE_BYTES);
    await wrk(
      app.url,
      keys.map((k) => `/images/${k}`),
      { requests: keys.length },
    ); // fill
    const out = [
      '| resize | regions moved | entries | MiB moved | app-side time (ms) | MiB/s |',
      '|---|---|---|---|---|---|',
    ];
    for (const size of [2, 1]) {
      const before = app.log().length;
      const started = Date.now();
      const res = await fetch(`${app.url}/api/configure_cache?mode=manual&numNodes=${size}`, {
        method: 'POST',
      });
      if (res.status !== 200)
        throw new Error(`resize to ${size}: ${res.status} ${await res.text()}`);
      const elapsed = Date.now() - started;
      const m = /moved (\d+) region\(s\): (\d+) entries, ([\d.]+) MiB in (\d+) ms/.exec(
        app.log().slice(before),
      );
      if (!m) throw new Error(`no move line in the log:\n${app.log().slice(before)}`);
      const [, regions, entries, mib, ms] = m;
      out.push(
        `| ${3 - size} → ${size} | ${regions} | ${entries} | ${mib} | ${elapsed} (transfer ${ms}) | ${(Number(mib) / (Number(ms) / 1000)).toFixed(0)} |`,
      );
    }
    return [
      `Moving cached images: ${MOVE_IMAGES} × 64 KiB (256 MiB) cached on one node, then:`,
      '',
      ...out,
    ];
  } finally {
    await app.stop();
  }
}

/** nginx serving exactly the bytes the app holds for `keys`, as /<key>.png. */
async function startNginx(appUrl, keys) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-nginx-'));
  fs.chmodSync(root, 0o755); // nginx workers run as nobody
  const www = path.join(root, 'www');
  fs.mkdirSync(www, { mode: 0o755 });
  for (const key of keys) {
    const res = await fetch(`${appUrl}/images/${key}`);
    fs.writeFileSync(path.join(www, `${key}.png`), Buffer.from(await res.arrayBuffer()));
  }
  const port = await freePort();
  const conf = path.join(root, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `worker_processes 2;
daemon off;
pid ${root}/nginx.pid;
error_log ${root}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { image/png png; }
  server { listen 127.0.0.1:${port}; root ${www}; etag on; }
  client_body_temp_path ${root}/tmp; proxy_temp_path ${root}/tmp; fastcgi_temp_path ${root}/tmp;
  uwsgi_temp_path ${root}/tmp; scgi_temp_path ${root}/tmp;
}
`,
  );
  const child = spawn(NGINX, ['-c', conf, '-p', root], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    url: `http://127.0.0.1:${port}`,
    root,
    stop: () => {
      child.kill('SIGQUIT');
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The ceiling for any Node front-end on this machine: node:http in its own process (like the app)
 * answering the same files from memory with Content-Type and Content-Length, nothing else.
 * `extraHeaders` ([name, value] pairs) are sent too: the app's own answer headers, to tell what
 * the headers cost from what the process costs.
 */
async function startFloor(root, keys, extraHeaders = []) {
  const port = await freePort();
  const script = `
    const http = require('node:http'); const fs = require('node:fs'); const path = require('node:path');
    const files = new Map(${JSON.stringify(keys)}.map((k) => ['/' + k + '.png', fs.readFileSync(path.join(${JSON.stringify(root)}, 'www', k + '.png'))]));
    const extra = ${JSON.stringify(extraHeaders.flat())};
    const heads = new Map([...files].map(([url, body]) => [url, extra.length === 0
      ? { 'Content-Type': 'image/png', 'Content-Length': body.length }
      : ['Content-Type', 'image/png', 'Content-Length', String(body.length), ...extra]]));
    http.createServer((req, res) => {
      const body = files.get(req.url);
      if (!body) { res.writeHead(404, { 'Content-Length': 0 }); res.end(); return; }
      res.writeHead(200, heads.get(req.url));
      res.end(body);
    }).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  await waitForPort(port);
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

/**
 * The ceiling for a look-aside pool's hit path in Node: a process that forwards GET /images/:key
 * to the owner node (one keep-alive hop, node:http client) and relays the bytes, nothing else.
 */
async function startProxyFloor(nodePort) {
  const port = await freePort();
  const script = `
    const http = require('node:http'); const { createHash } = require('node:crypto');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    http.createServer((req, res) => {
      const key = decodeURIComponent(req.url.slice('/images/'.length));
      const region = parseInt(createHash('md5').update(key).digest('hex')[0], 16);
      http.get({ agent, host: '127.0.0.1', port: ${nodePort}, path: '/v1/keys/' + encodeURIComponent(key) + '?region=' + region, headers: { 'x-pixpool-secret': ${JSON.stringify(NODE_SECRET)} } }, (up) => {
        const chunks = []; up.on('data', (c) => chunks.push(c));
        up.on('end', () => { const body = Buffer.concat(chunks);
          res.writeHead(up.statusCode, { 'Content-Type': 'image/png', 'Content-Length': body.length }); res.end(body); });
      });
    }).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  await waitForPort(port);
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}
Object.assign(module.exports, { startNginx, startFloor, freePort });
