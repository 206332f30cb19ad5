/*
 * Image variants, in one run:
 *   - hot: a cached 320 px WebP variant (preset thumb, fmt=webp; near cache on, as a hot image is
 *     served in production) against nginx serving files of the same bytes; wrk, 64 connections,
 *     rounds alternating the two sides;
 *   - misses: distinct signed variants (each requested once, so each is a transform, a fill and an
 *     original read from the pool) against a bare sharp loop doing the same transforms on the same
 *     sources in one Node process, as many in flight as the app's default concurrency limit
 *     (one per core). Both sides are checked to produce the same bytes before timing.
 */
const { createHmac } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startApp } = require('./support/app');
const { wrk, fixedCount, requireWrk } = require('./support/wrk');
const { startNginx, startFloor } = require('./app-read-path.bench');

const SIGNING_KEY = 'bench-signing-key-bench-signing-key-0123';
const SOURCES = 20;
const WIDTHS = 12; // distinct signed widths per source: 240 misses per round
const ROUNDS = Number(process.env.PIXPOOL_BENCH_ROUNDS ?? 3);
const SECONDS = 8;
const PORT_BASE = 25000 + Number(process.env.PIXPOOL_TEST_PORT_OFFSET ?? 0) + 400;

module.exports = {
  title: 'Variants: hot cached variant vs nginx; misses vs a bare sharp loop',
  run,
};

/** A 1600×1200 photo-like JPEG (smooth gradient plus noise), different per index. */
async function makeSource(sharp, i) {
  const width = 1600;
  const height = 1200;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      raw[at] = (x / 7 + i * 11) & 0xff;
      raw[at + 1] = (y / 5 + i * 17) & 0xff;
      raw[at + 2] = ((x + y) / 9 + ((x * 31 + y * 17 + i) % 23)) & 0xff;
    }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

function signed(pathAndQuery) {
  const sig = createHmac('sha256', SIGNING_KEY).update(pathAndQuery).digest('base64url');
  return `${pathAndQuery}&sig=${sig}`;
}

async function upload(url, key, body) {
  const form = new FormData();
  form.append('key', key);
  form.append('file', new Blob([body]), 'photo.jpg');
  const res = await fetch(`${url}/api/upload`, { method: 'POST', body: form });
  if (res.status !== 200) throw new Error(`upload ${key}: ${res.status} ${await res.text()}`);
}

async function bytesOf(url, headers = {}) {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The headers of the app's answer that a file server would not send as they are. */
async function answerHeaders(url) {
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  const ownedByTheServer = new Set([
    'content-type',
    'content-length',
    'date',
    'connection',
    'keep-alive',
    'transfer-encoding',
  ]);
  return [...res.headers].filter(([name]) => !ownedByTheServer.has(name));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function run() {
  requireWrk();
  const sharp = require('sharp');
  sharp.cache(false); // as the app does (src/imaging/sharp-pipeline.ts)
  const sources = [];
  for (let i = 0; i < SOURCES; i++) sources.push(await makeSource(sharp, i));
  const lines = [];
  lines.push(...(await hot(sharp, sources)));
  lines.push('', ...(await misses(sharp, sources)));
  const load = os.loadavg().map((l) => l.toFixed(1));
  lines.push(
    '',
    `Load average at the end (1, 5, 15 min): ${load.join(', ')} on ${os.cpus().length} cores; ` +
      'other developers share this machine, so absolute figures move between runs; the ratios ' +
      'compare sides measured in alternating rounds of the same run.',
  );
  return lines.join('\n');
}

async function hot(sharp, sources) {
  const app = await startApp({
    PIXPOOL_POOL_BASE_PORT: String(PORT_BASE),
    PIXPOOL_NEAR_CACHE_CAPACITY_MB: '64',
  });
  let nginx;
  let floor;
  let floorWithHeaders;
  try {
    const keys = sources.map((_, i) => `photo-${i}`);
    for (let i = 0; i < keys.length; i++) await upload(app.url, keys[i], sources[i]);
    const paths = keys.map((k) => `/images/${k}?preset=thumb&fmt=webp`);
    nginx = await startNginx(app.url, []);
    const files = [];
    let bytes = 0;
    for (let i = 0; i < paths.length; i++) {
      // Twice: the second read admits it to the near cache.
      await bytesOf(`${app.url}${paths[i]}`);
      const body = await bytesOf(`${app.url}${paths[i]}`);
      fs.writeFileSync(path.join(nginx.root, 'www', `v-${i}.webp`), body);
      fs.writeFileSync(path.join(nginx.root, 'www', `v-${i}.png`), body); // the floor's name
      files.push(`/v-${i}.webp`);
      bytes += body.length;
      const fromNginx = await bytesOf(`${nginx.url}${files[i]}`);
      if (!fromNginx.equals(body)) throw new Error(`nginx does not serve the bytes of ${paths[i]}`);
    }
    floor = await startFloor(
      nginx.root,
      paths.map((_, i) => `v-${i}`),
    );
    // The same floor sending the headers the app sends with a hot variant: what of the gap to
    // nginx is the answer's headers, and what is the app's process.
    floorWithHeaders = await startFloor(
      nginx.root,
      paths.map((_, i) => `v-${i}`),
      await answerHeaders(`${app.url}${paths[0]}`),
    );
    const floorFiles = paths.map((_, i) => `/v-${i}.png`);
    for (const side of [floor, floorWithHeaders]) {
      const fromFloor = await bytesOf(`${side.url}${floorFiles[0]}`);
      if (!fromFloor.equals(fs.readFileSync(path.join(nginx.root, 'www', 'v-0.png'))))
        throw new Error(`the node:http floor does not serve the bytes of ${paths[0]}`);
    }
    const meta = await sharp(await bytesOf(`${app.url}${paths[0]}`)).metadata();
    const ratios = [];
    const floorRatios = [];
    const floorWithHeadersRatios = [];
    const rows = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // One variant, with plain wrk: the hot image of a page, and no Lua in the load tool.
      const viaNginx = await wrk(nginx.url, files.slice(0, 1), { seconds: SECONDS });
      const viaFloor = await wrk(floor.url, floorFiles.slice(0, 1), { seconds: SECONDS });
      const viaFloorWithHeaders = await wrk(floorWithHeaders.url, floorFiles.slice(0, 1), {
        seconds: SECONDS,
      });
      const viaApp = await wrk(app.url, paths.slice(0, 1), { seconds: SECONDS });
      ratios.push(viaApp.rps / viaNginx.rps);
      floorRatios.push(viaFloor.rps / viaNginx.rps);
      floorWithHeadersRatios.push(viaFloorWithHeaders.rps / viaNginx.rps);
      rows.push(
        `| ${round} | ${viaNginx.rps.toFixed(0)} | ${viaFloor.rps.toFixed(0)} | ${viaFloorWithHeaders.rps.toFixed(0)} | ${viaApp.rps.toFixed(0)} | ${viaApp.p50} / ${viaApp.p99} | ${viaApp.non2xx} | ${(viaApp.rps / viaNginx.rps).toFixed(2)} |`,
      );
    }
    return [
      `Hot: ${paths.length} cached variants (${meta.width}×${meta.height} WebP, ${Math.round(bytes / paths.length)} bytes on average); ` +
        `the first is timed with plain wrk (no Lua script), ${SECONDS} s × ${ROUNDS} rounds, 64 connections; nginx serves the same bytes as a file.`,
      '',
      "| round | nginx req/s | node:http floor req/s | floor with the app's headers req/s | pixpool variant req/s | pixpool p50 / p99 | non-2xx | pixpool / nginx |",
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Hot cached variant / nginx: **${median(ratios).toFixed(2)}×** (median of ${ROUNDS} rounds; goal ≥ 0.7). ` +
        `For scale: a node:http process answering the same bytes from memory and nothing else ` +
        `(the ceiling of any Node front-end here) reaches ${median(floorRatios).toFixed(2)}× nginx, ` +
        `and ${median(floorWithHeadersRatios).toFixed(2)}× with the headers the app sends ` +
        `(docs/hot-path.md: where the rest goes).`,
    ];
  } finally {
    nginx?.stop();
    floor?.stop();
    floorWithHeaders?.stop();
    await app.stop();
  }
}

async function misses(sharp, sources) {
  const app = await startApp({
    PIXPOOL_POOL_BASE_PORT: String(PORT_BASE + 20),
    PIXPOOL_IMAGING_SIGNING_KEYS: SIGNING_KEY,
    PIXPOOL_CACHE_CAPACITY_MB: '256',
  });
  const inFlight = os.availableParallelism();
  try {
    const keys = sources.map((_, i) => `photo-${i}`);
    for (let i = 0; i < keys.length; i++) await upload(app.url, keys[i], sources[i]);
    // Same transform both sides; the loop's bytes must equal the app's.
    const check = await bytesOf(`${app.url}${signed('/images/photo-0?w=321&fmt=webp')}`);
    const loopCheck = await transform(sharp, sources[0], 321);
    if (!check.equals(loopCheck))
      throw new Error('the bare sharp loop and the app differ in bytes');
    const rows = [];
    const ratios = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Widths never asked before: every request is a miss and a transform.
      const widths = Array.from({ length: WIDTHS }, (_, j) => 200 + round * 100 + j);
      const jobs = keys.flatMap((k, i) => widths.map((w) => ({ k, i, w })));
      const paths = jobs.map(({ k, w }) => signed(`/images/${k}?w=${w}&fmt=webp`));
      const loopStarted = process.hrtime.bigint();
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < jobs.length) {
            const { i, w } = jobs[next++];
            await transform(sharp, sources[i], w);
          }
        }),
      );
      const loopRate = jobs.length / (Number(process.hrtime.bigint() - loopStarted) / 1e9);
      const viaApp = await fixedCount(app.url, paths, { connections: 16 });
      ratios.push(viaApp.rps / loopRate);
      rows.push(
        `| ${round} | ${loopRate.toFixed(1)} | ${viaApp.rps.toFixed(1)} | ${viaApp.p50} / ${viaApp.p99} | ${viaApp.non2xx} | ${(viaApp.rps / loopRate).toFixed(2)} |`,
      );
    }
    return [
      `Misses: ${SOURCES} sources (1600×1200 JPEG) × ${WIDTHS} widths never asked before per round, ` +
        `to WebP (each once, 16 connections, autocannon): each is an original read from the pool, a ` +
        `transform and a fill. The floor: the same transforms in a bare sharp loop in one Node ` +
        `process, ${inFlight} in flight (the app's default imaging.concurrency, one per core).`,
      '',
      '| round | bare sharp loop transforms/s | pixpool misses/s | pixpool p50 / p99 | non-2xx | pixpool / loop |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      `Variant misses / bare sharp loop: **${median(ratios).toFixed(2)}×** (median of ${ROUNDS} rounds; goal ≥ 0.8).`,
    ];
  } finally {
    await app.stop();
  }
}

/** What the app's pipeline does for `?w=&fmt=webp` (src/imaging/sharp-pipeline.ts). */
async function transform(sharp, source, width) {
  await sharp(source, { limitInputPixels: false, failOn: 'error' }).metadata();
  return sharp(source, { limitInputPixels: 40_000_000, pages: 1 })
    .autoOrient()
    .resize({ width, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .timeout({ seconds: 10 })
    .toBuffer();
}
