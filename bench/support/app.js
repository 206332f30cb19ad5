/* Starts the built app (dist/) as a process with its own data folder; resolves once it listens. */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const DIST = process.env.PIXPOOL_DIST || path.join(ROOT, 'dist');

/** `root`: another checkout's root, to run its build (dist/) with its own config. */
function startApp(env = {}, { root } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-bench-'));
  const dist = root ? path.join(root, 'dist') : DIST;
  const child = spawn(process.execPath, [path.join(dist, 'src', 'main.js')], {
    cwd: root ?? ROOT,
    env: {
      ...process.env,
      NO_COLOR: '1',
      PIXPOOL_SERVER_PORT: '0',
      PIXPOOL_SERVER_HOST: '127.0.0.1',
      PIXPOOL_STORAGE_DIR: path.join(dir, 'blobs'),
      PIXPOOL_DATABASE_FILE: path.join(dir, 'pixpool.sqlite'),
      PIXPOOL_POOL_BASE_PORT: '25001',
      // The load tool is one address standing in for many clients: the per-client upload slot
      // cap (4 by default) would refuse its 16 connections.
      PIXPOOL_LIMITS_MAX_UPLOADS_PER_CLIENT: '64',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start:\n${log}`)), 30000);
    const onData = (chunk) => {
      log += chunk;
      const match = /pixpool listening on (http:\/\/[\d.]+:\d+)/.exec(log);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1],
        dir,
        pid: child.pid,
        log: () => log,
        stop: () =>
          new Promise((done) => {
            child.once('exit', () => {
              fs.rmSync(dir, { recursive: true, force: true });
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`app exited with ${code}:\n${log}`)));
  });
}

/** A valid PNG of about `bytes` bytes of random pixels (the same generator the tests use). */
function makePng(bytes) {
  const { deflateSync, crc32 } = require('node:zlib');
  const side = Math.ceil(Math.sqrt(bytes / 3));
  const row = 1 + side * 3;
  const raw = require('node:crypto').randomBytes(row * side);
  for (let y = 0; y < side; y++) raw[y * row] = 0;
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 8;
  header[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 0 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Uploads `count` images concurrently (8 at a time); returns uploads per second. */
async function uploadMany(url, keys, bytes, concurrency = 8) {
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      const form = new FormData();
      form.append('key', key);
      form.append('file', new Blob([makePng(bytes)]), 'image.png');
      const res = await fetch(`${url}/api/upload`, { method: 'POST', body: form });
      if (res.status !== 200) throw new Error(`upload ${key}: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return keys.length / ((Date.now() - started) / 1000);
}

/** A multipart/form-data upload body (key + file) as autocannon sends it. */
function multipartUpload(key, png) {
  const boundary = `pixpool${Math.random().toString(16).slice(2)}`;
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="image.png"\r\n` +
    'Content-Type: image/png\r\n\r\n';
  const body = Buffer.concat([Buffer.from(head), png, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, boundary };
}

module.exports = { startApp, makePng, uploadMany, multipartUpload, ROOT, DIST };
