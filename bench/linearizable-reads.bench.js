/*
 * What linearizable reads cost (issue 22): the code before the change against this code, side by
 * side in one run, in interleaved rounds, both with the near cache (L1) on:
 *   - upload p50 (autocannon, 16 connections, distinct keys × 64 KiB PNG): the wait for the nodes
 *     moved before the commit, the release and the outbox ack left the answer's path;
 *   - hot GET of one 64 KiB image answered from L1 (wrk, 64 connections, 10 s);
 *   - CPU time per upload of the app and its node (from /proc), which a loaded machine disturbs
 *     far less than latency.
 * The earlier build is a checkout of the code before the change, built, named by
 * PIXPOOL_BENCH_BEFORE_ROOT (e.g. `git worktree add --detach /tmp/before <commit>`, node_modules
 * linked, `npx tsc -p tsconfig.build.json`); PIXPOOL_BENCH_BEFORE_LABEL says in the report what it
 * is. The change landed as 8364734; its parent merge is 4a2b2b4. The upload header check of the
 * variants work (src/imaging/upload-check.ts, a sharp metadata() read per upload) landed after it
 * and is not this change's cost, so a fair "before" is 4a2b2b4 with that check added: copy
 * src/imaging/{upload-check,source-limits}.ts and call checkUploadHeader(file.buffer, contentType,
 * { maxInputPixels: 40000000, maxFrames: 100 }) after detectImageType in ImageService.upload.
 * Goals: upload p50 after ≤ 1.1 × before; hot GET after ≥ before.
 */
const os = require('node:os');
const { startApp, makePng, multipartUpload } = require('./support/app');
const { wrk, fixedUploads, requireWrk } = require('./support/wrk');
const { cpuSeconds, withChildren } = require('./support/proc-cpu');

// Round-to-round spread is about ±15 % here; PIXPOOL_BENCH_ROUNDS=9 gives a steadier median.
const ROUNDS = Number(process.env.PIXPOOL_BENCH_ROUNDS ?? 5);
const SECONDS = 10;
const IMAGE_BYTES = 64 * 1024;
const UPLOADS_PER_ROUND = 2000;

module.exports = { title: 'Linearizable reads: upload p50 and hot GET, before vs after', run };

async function run() {
  const beforeRoot = process.env.PIXPOOL_BENCH_BEFORE_ROOT;
  if (!beforeRoot)
    return 'Skipped: set PIXPOOL_BENCH_BEFORE_ROOT to a built checkout of the code before.';
  requireWrk();
  const load = os.loadavg()[0].toFixed(2);
  const settings = { PIXPOOL_CACHE_CAPACITY_MB: '64', PIXPOOL_NEAR_CACHE_CAPACITY_MB: '64' };
  const apps = {
    before: await startApp({ ...settings, PIXPOOL_POOL_BASE_PORT: '25231' }, { root: beforeRoot }),
    after: await startApp({ ...settings, PIXPOOL_POOL_BASE_PORT: '25241' }),
  };
  const rounds = [];
  try {
    const hot = makePng(IMAGE_BYTES);
    for (const app of Object.values(apps)) {
      const form = new FormData();
      form.append('key', 'hot');
      form.append('file', new Blob([hot]), 'hot.png');
      const up = await fetch(`${app.url}/api/upload`, { method: 'POST', body: form });
      if (up.status !== 200) throw new Error(`upload of the hot key: ${up.status}`);
      // Read until a near hit: the near cache subscribes to the node after the app starts, later
      // on a busy machine.
      let check;
      let body;
      for (const until = Date.now() + 15_000; Date.now() < until;) {
        check = await fetch(`${app.url}/images/hot`);
        body = Buffer.from(await check.arrayBuffer());
        if (check.headers.get('x-near-cache') === 'HIT') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (check.status !== 200 || !body.equals(hot) || check.headers.get('x-near-cache') !== 'HIT')
        throw new Error(`${app.url}: the hot key is not a near hit with the uploaded bytes`);
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so a drift in the machine's load favours neither.
      const order = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
      const result = { gets: {}, uploads: {} };
      for (const which of order)
        result.gets[which] = await wrk(apps[which].url, ['/images/hot'], { seconds: SECONDS });
      for (const which of order) {
        const bodies = Array.from({ length: UPLOADS_PER_ROUND }, (_, i) =>
          multipartUpload(`up-${which}-${round}-${i}`, makePng(IMAGE_BYTES)),
        );
        const pids = withChildren(apps[which].pid);
        const cpuBefore = cpuSeconds(pids);
        result.uploads[which] = await fixedUploads(apps[which].url, bodies);
        result.uploads[which].cpuMs = ((cpuSeconds(pids) - cpuBefore) * 1000) / bodies.length;
      }
      rounds.push(result);
      console.log(
        `round ${round + 1}: hot GET before ${result.gets.before.rps.toFixed(0)}, after ` +
          `${result.gets.after.rps.toFixed(0)} req/s; upload p50 before ${result.uploads.before.p50}, ` +
          `after ${result.uploads.after.p50}; CPU ms per upload before ` +
          `${result.uploads.before.cpuMs.toFixed(2)}, after ${result.uploads.after.cpuMs.toFixed(2)}`,
      );
    }
  } finally {
    await Promise.all(Object.values(apps).map((app) => app.stop()));
  }
  return report(rounds, load);
}

function report(rounds, load) {
  const ms = (text) => Number(String(text).replace('ms', ''));
  const uploadRatio = rounds.map((r) => ms(r.uploads.after.p50) / ms(r.uploads.before.p50));
  const getRatio = rounds.map((r) => r.gets.after.rps / r.gets.before.rps);
  const cpuRatio = rounds.map((r) => r.uploads.after.cpuMs / r.uploads.before.cpuMs);
  const spread = (xs) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return `**${median.toFixed(2)}×** (rounds: ${xs.map((x) => x.toFixed(2)).join(', ')})`;
  };
  const before = process.env.PIXPOOL_BENCH_BEFORE_LABEL ?? process.env.PIXPOOL_BENCH_BEFORE_ROOT;
  return [
    `Before: ${before}. After: this checkout.`,
    '',
    `${ROUNDS} interleaved rounds, both apps with L1 on (64 MiB), SQLite + files, one local node; ` +
      `hot GET with wrk, 64 connections, ${SECONDS} s; uploads with autocannon, ${UPLOADS_PER_ROUND} ` +
      `distinct keys × 64 KiB PNG per app and round, 16 connections. Load average at start: ${load} ` +
      `(other sessions share the 2 cores; the ratios compare the two builds within each round).`,
    '',
    '| round | hot GET req/s before / after | upload p50 before / after | uploads/s before / after | CPU ms per upload before / after |',
    '|---|---|---|---|---|',
    ...rounds.map(
      (r, i) =>
        `| ${i + 1} | ${r.gets.before.rps.toFixed(0)} / ${r.gets.after.rps.toFixed(0)} | ` +
        `${r.uploads.before.p50} / ${r.uploads.after.p50} | ` +
        `${r.uploads.before.rps.toFixed(0)} / ${r.uploads.after.rps.toFixed(0)} | ` +
        `${r.uploads.before.cpuMs.toFixed(2)} / ${r.uploads.after.cpuMs.toFixed(2)} |`,
    ),
    '',
    `- Upload p50, after / before: ${spread(uploadRatio)} — goal ≤ 1.1.`,
    `- Hot GET, after / before: ${spread(getRatio)} — goal ≥ 1 (not lower).`,
    `- CPU per upload (app + node), after / before: ${spread(cpuRatio)}.`,
  ].join('\n');
}
