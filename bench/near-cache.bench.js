/*
 * The near cache (L1), side by side in one run, in interleaved rounds:
 *   - GET /images/:key of one hot 64 KiB image (a near hit) vs nginx serving the same file,
 *   - the same hot GET vs a mostly-uncached GET (wrk rotating over 2000 keys, with a node of
 *     1 MiB and an L1 of 8 MiB: about 94 % of reads go to storage), both wrk, 64 connections, 10 s,
 *   - upload p50 with L1 on vs off (two apps, same settings otherwise; autocannon, 16 connections,
 *     distinct keys × 64 KiB PNG): the cost of pushing each invalidation to the subscriber.
 *   - the same hot GET against an app with the default settings (`npm start`: near cache on by
 *     default, auto capacity, one local node),
 * Goals (issue 14): hot ≥ 0.5 × nginx; hot ≥ 10 × mostly-uncached; upload p50 on ≤ 1.2 × off.
 * Goal (issue 18): hot with the default settings ≥ 0.7 × nginx.
 */
const os = require('node:os');
const { startApp, uploadMany, makePng, multipartUpload } = require('./support/app');
const { wrk, fixedUploads, requireWrk } = require('./support/wrk');
const { startNginx, startFloor } = require('./app-read-path.bench');

const ROUNDS = 3;
const SECONDS = 10;
const IMAGE_BYTES = 64 * 1024;
const COLD_KEYS = Array.from({ length: 2000 }, (_, i) => `cold-${i}`);
const UPLOADS_PER_ROUND = 2000;

module.exports = { title: 'Near cache (L1): hot GET vs nginx and vs uncached; upload cost', run };

async function run() {
  requireWrk();
  const load = os.loadavg()[0].toFixed(2);
  const near = await startApp({
    PIXPOOL_CACHE_CAPACITY_MB: '1',
    PIXPOOL_NEAR_CACHE_CAPACITY_MB: '8',
    PIXPOOL_POOL_BASE_PORT: '25201',
  });
  const plain = await startApp({
    PIXPOOL_CACHE_CAPACITY_MB: '64',
    PIXPOOL_NEAR_CACHE_CAPACITY_MB: '0',
    PIXPOOL_POOL_BASE_PORT: '25211',
  });
  const nearOnForUploads = await startApp({
    PIXPOOL_CACHE_CAPACITY_MB: '64',
    PIXPOOL_NEAR_CACHE_CAPACITY_MB: '64',
    PIXPOOL_POOL_BASE_PORT: '25221',
  });
  const defaults = await startApp({ PIXPOOL_POOL_BASE_PORT: '25231' });
  let nginx;
  let floor;
  const rounds = [];
  try {
    await uploadMany(near.url, ['hot', ...COLD_KEYS], IMAGE_BYTES);
    await uploadMany(defaults.url, ['hot'], IMAGE_BYTES);
    for (let i = 0; i < 5; i++) await (await fetch(`${defaults.url}/images/hot`)).arrayBuffer();
    const byDefault = await fetch(`${defaults.url}/images/hot`);
    await byDefault.arrayBuffer();
    if (byDefault.headers.get('x-near-cache') !== 'HIT')
      throw new Error('with the default settings, the hot key is no near hit');
    nginx = await startNginx(near.url, ['hot']);
    floor = await startFloor(nginx.root, ['hot']);
    for (let i = 0; i < 5; i++) await (await fetch(`${near.url}/images/hot`)).arrayBuffer();
    const check = await fetch(`${near.url}/images/hot`);
    await check.arrayBuffer();
    if (check.headers.get('x-near-cache') !== 'HIT') throw new Error('the hot key is no near hit');

    for (let round = 0; round < ROUNDS; round++) {
      const viaNginx = await wrk(nginx.url, ['/hot.png'], { seconds: SECONDS });
      const viaFloor = await wrk(floor.url, ['/hot.png'], { seconds: SECONDS });
      const hot = await wrk(near.url, ['/images/hot'], { seconds: SECONDS });
      const hotDefault = await wrk(defaults.url, ['/images/hot'], { seconds: SECONDS });
      const cold = await wrk(
        near.url,
        COLD_KEYS.map((k) => `/images/${k}`),
        { seconds: SECONDS },
      );
      const bodies = (tag) =>
        Array.from({ length: UPLOADS_PER_ROUND }, (_, i) =>
          multipartUpload(`up-${tag}-${round}-${i}`, makePng(IMAGE_BYTES)),
        );
      // Alternate which goes first, so a drift in the machine's load favours neither.
      const order = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      const uploads = {};
      for (const which of order) {
        const app = which === 'on' ? nearOnForUploads : plain;
        uploads[which] = await fixedUploads(app.url, bodies(which));
      }
      rounds.push({ viaNginx, viaFloor, hot, hotDefault, cold, uploads });
      console.log(
        `round ${round + 1}: nginx ${viaNginx.rps.toFixed(0)}, floor ${viaFloor.rps.toFixed(0)}, hot ${hot.rps.toFixed(0)}, ` +
          `hot (defaults) ${hotDefault.rps.toFixed(0)}, ` +
          `cold ${cold.rps.toFixed(0)} req/s; upload p50 on ${uploads.on.p50}, off ${uploads.off.p50}`,
      );
    }
    const nearStats = await (await fetch(`${near.url}/api/manager/near`)).json();
    return report(rounds, load, nearStats);
  } finally {
    nginx?.stop();
    floor?.stop();
    await Promise.all([near.stop(), plain.stop(), nearOnForUploads.stop(), defaults.stop()]);
  }
}

function report(rounds, load, nearStats) {
  const ms = (text) => Number(String(text).replace('ms', ''));
  const ratios = {
    hotVsNginx: rounds.map((r) => r.hot.rps / r.viaNginx.rps),
    defaultVsNginx: rounds.map((r) => r.hotDefault.rps / r.viaNginx.rps),
    hotVsCold: rounds.map((r) => r.hot.rps / r.cold.rps),
    hotVsFloor: rounds.map((r) => r.hot.rps / r.viaFloor.rps),
    floorVsNginx: rounds.map((r) => r.viaFloor.rps / r.viaNginx.rps),
    uploadP50: rounds.map((r) => ms(r.uploads.on.p50) / ms(r.uploads.off.p50)),
  };
  const spread = (xs, digits = 2) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return `**${median.toFixed(digits)}×** (rounds: ${xs.map((x) => x.toFixed(digits)).join(', ')})`;
  };
  const rows = rounds.map(
    (r, i) =>
      `| ${i + 1} | ${r.viaNginx.rps.toFixed(0)} | ${r.viaFloor.rps.toFixed(0)} | ${r.hot.rps.toFixed(0)} (p50 ${r.hot.p50}) | ` +
      `${r.hotDefault.rps.toFixed(0)} (p50 ${r.hotDefault.p50}) | ` +
      `${r.cold.rps.toFixed(0)} (p50 ${r.cold.p50}, non-2xx ${r.cold.non2xx}) | ` +
      `${r.uploads.on.p50} / ${r.uploads.off.p50} | ${r.uploads.on.rps.toFixed(0)} / ${r.uploads.off.rps.toFixed(0)} |`,
  );
  const self = (nearStats.frontEnds ?? []).find((f) => f.self);
  return [
    `${ROUNDS} interleaved rounds; GETs with wrk, 64 connections, ${SECONDS} s each; uploads with ` +
      `autocannon, ${UPLOADS_PER_ROUND} distinct keys × 64 KiB PNG per app and round, 16 connections, ` +
      `SQLite + files, one local node. Load average at start: ${load} (other sessions share the ` +
      `2 cores, so absolute figures vary; the ratios compare runs of the same round).`,
    '',
    '| round | nginx hot file req/s | node:http floor req/s | pixpool hot (L1 hit) req/s | pixpool hot, default settings req/s | pixpool mostly-uncached req/s | upload p50 L1 on / off | uploads/s on / off |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `- Hot GET / nginx: ${spread(ratios.hotVsNginx)} — goal ≥ 0.5.`,
    `- Hot GET with the default settings (near cache on by default) / nginx: ` +
      `${spread(ratios.defaultVsNginx)} — goal ≥ 0.7.`,
    `- For scale: a node:http process that only answers the same bytes from memory (the ceiling of ` +
      `any Node front-end here) reaches ${spread(ratios.floorVsNginx)} of nginx; pixpool's near hit ` +
      `reaches ${spread(ratios.hotVsFloor)} of that floor.`,
    `- Hot GET / mostly-uncached GET: ${spread(ratios.hotVsCold, 1)} — goal ≥ 10.`,
    `- Upload p50, L1 on / off: ${spread(ratios.uploadP50)} — goal ≤ 1.2.`,
    self
      ? `- The near-cache app's L1 at the end: ${self.items} items, ${(self.bytes / 1048576).toFixed(1)} MiB, ` +
        `hit share ${(self.hitShare * 100).toFixed(1)} % over ${self.reads} reads.`
      : '',
  ].join('\n');
}
