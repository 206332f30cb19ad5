/*
 * Load generators. wrk (Debian's, C) for throughput comparisons: it needs little CPU, so on this
 * 2-core machine it measures the server rather than itself; it runs for a fixed time (its Lua
 * thread:stop() does not end the run early). autocannon for fixed request counts, where each
 * request must hit a different key (e.g. every key read once: all misses).
 */
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');

const WRK = '/usr/bin/wrk';

function requireWrk() {
  if (!fs.existsSync(WRK)) throw new Error('wrk is missing: apt-get install wrk');
}

/**
 * wrk against baseUrl for `seconds`: plain wrk on one path (no Lua: the load tool does the least
 * work, the same on both sides), or rotating over several `paths` with a Lua script.
 */
function wrk(baseUrl, paths, { seconds = 10, connections = 64, threads = 1 } = {}) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency'];
  if (paths.length === 1) return runWrk([...args, `${baseUrl}${paths[0]}`]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-wrk-'));
  const script = path.join(dir, 'rotate.lua');
  fs.writeFileSync(
    script,
    `local paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
`,
  );
  return runWrk([...args, '-s', script, baseUrl]).finally(() =>
    fs.rmSync(dir, { recursive: true, force: true }),
  );
}

function runWrk(args) {
  return new Promise((resolve, reject) => {
    execFile(WRK, args, (err, stdout) => (err ? reject(err) : resolve(parseWrk(stdout))));
  });
}

function parseWrk(out) {
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    total: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    p50: /50%\s+([\d.]+\w+)/.exec(out)?.[1] ?? '?',
    p99: /99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? '?',
  };
}

/**
 * autocannon notices that a fixed-count run is over only on its next sampling tick (sampleInt, a
 * second by default), so with the default its duration, and every rate divided by it, is rounded
 * up to whole seconds: a 2.2 s run of misses counted as 3 s. Ticking every 10 ms ends the run
 * within 10 ms of its last answer; the tick itself costs the load tool next to nothing.
 */
const SAMPLE_MS = 10;

/** Exactly `amount` GETs over `paths` in order (each once when amount = paths.length). */
async function fixedCount(baseUrl, paths, { amount = paths.length, connections = 64 } = {}) {
  let next = 0;
  const result = await autocannon({
    url: baseUrl,
    connections,
    amount,
    sampleInt: SAMPLE_MS,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length] }) }],
  });
  return summarize(result);
}

/** Exactly `bodies.length` multipart uploads, one per prepared body, over `connections`. */
async function fixedUploads(baseUrl, bodies, { connections = 16 } = {}) {
  let next = 0;
  const result = await autocannon({
    url: baseUrl,
    connections,
    amount: bodies.length,
    sampleInt: SAMPLE_MS,
    requests: [
      {
        method: 'POST',
        path: '/api/upload',
        setupRequest: (req) => {
          const { body, boundary } = bodies[next++ % bodies.length];
          return {
            ...req,
            body,
            headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
          };
        },
      },
    ],
  });
  return summarize(result);
}

/** An autocannon result in the shape parseWrk gives, so tables mix both loads. */
function summarize(result) {
  return {
    rps: result.requests.total / (result.duration || 1),
    total: result.requests.total,
    non2xx: result.non2xx,
    p50: `${result.latency.p50}ms`,
    p99: `${result.latency.p99}ms`,
  };
}

module.exports = { wrk, fixedCount, fixedUploads, requireWrk };
