/*
 * Memory under an upload flood: 200 clients each upload a 10 MiB image at once. With the cap
 * (limits.maxConcurrentUploads, default 16) the app buffers at most that many bodies and answers
 * the rest 503 + Retry-After; the clients retry after the time it names. The baseline is the same
 * app with the cap out of reach (1000), which buffers every body it is sent. Peak RSS of the app
 * process is sampled from /proc every 20 ms; rounds alternate so both see the same machine.
 */
const fs = require('node:fs');
const http = require('node:http');
const { startApp, makePng } = require('./support/app');

const CLIENTS = 200;
const FILE_BYTES = 10 * 1024 * 1024 - 64 * 1024; // just under the default 10 MiB upload limit
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
// Its own node ports, away from the other benches' 25001.. (another bench may be running).
const NODE_PORT = 25301;

function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

/** One multipart upload from the shared PNG buffer (no copy per client); resolves with the status. */
function uploadOnce(url, key, png) {
  const boundary = `b${key}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n` +
      'Content-Type: image/png\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: hostname,
        port,
        method: 'POST',
        path: '/api/upload',
        agent: false,
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + png.length + tail.length,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode, retryAfter: Number(res.headers['retry-after'] ?? 1) }),
        );
      },
    );
    // A 503 answered before the body was read closes the connection under the writer: that is
    // the refusal, not an error (the response has arrived or arrives right after).
    req.on('error', (err) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    req.write(head);
    req.write(png);
    req.end(tail);
  });
}

async function flood(cap, png) {
  const app = await startApp({
    PIXPOOL_LIMITS_MAX_CONCURRENT_UPLOADS: String(cap),
    PIXPOOL_POOL_BASE_PORT: String(NODE_PORT),
  });
  let peak = rssMb(app.pid);
  const idle = peak;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(app.pid))), 20);
  let refused = 0;
  let timedOut = 0;
  const started = Date.now();
  try {
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        for (;;) {
          const { status, retryAfter } = await uploadOnce(app.url, `big-${i}`, png).catch(() => ({
            status: 0,
            retryAfter: 1,
          }));
          if (status === 200) return;
          // 408: the body did not arrive within limits.requestTimeoutMs (120 s): the client retries.
          if (status === 408) timedOut++;
          else if (status === 503 || status === 0) refused++;
          else throw new Error(`upload big-${i}: ${status}`);
          await new Promise((r) => setTimeout(r, retryAfter * 1000 * (0.5 + Math.random())));
        }
      }),
    );
  } finally {
    clearInterval(sampler);
    await app.stop();
  }
  return { cap, idle, peak, refused, timedOut, seconds: (Date.now() - started) / 1000 };
}

async function run() {
  const png = makePng(FILE_BYTES);
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const cap of [1000, 16]) {
      const r = await flood(cap, png);
      console.log(JSON.stringify(r));
      rows.push(r);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const of = (cap) => rows.filter((r) => r.cap === cap);
  const capped = median(of(16).map((r) => r.peak));
  const open = median(of(1000).map((r) => r.peak));
  const table = [
    '| cap (limits.maxConcurrentUploads) | round | RSS idle (MB) | RSS peak (MB) | 503 answers (retried) | 408 timed out (retried) | all 200 stored in (s) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r, i) =>
        `| ${r.cap === 1000 ? 'none (1000, baseline)' : r.cap} | ${Math.floor(i / 2) + 1} | ${r.idle.toFixed(0)} | ${r.peak.toFixed(0)} | ${r.refused} | ${r.timedOut} | ${r.seconds.toFixed(1)} |`,
    ),
  ];
  return [
    `${CLIENTS} clients upload ${(png.length / 1048576).toFixed(2)} MiB PNGs at once (SQLite + files); refused ones retry after Retry-After. RSS of the app process, sampled every 20 ms.`,
    '',
    ...table,
    '',
    `Peak RSS with the cap of 16: **${capped.toFixed(0)} MB** (median of ${ROUNDS}), without it ${open.toFixed(0)} MB: **${(capped / open).toFixed(2)}×**. ` +
      `The capped figure is bounded by the cap (16 × 10 MiB bodies plus their copies while hashed and written), not by the number of clients.`,
  ].join('\n');
}

module.exports = { title: 'Memory under 200 concurrent 10 MiB uploads', run };
