/*
 * Regions (and so the share of cached keys) that change owner on each pool resize, balanced vs
 * round-robin. Pure computation over the compiled allocators: `npm run bench` builds dist/ first;
 * PIXPOOL_DIST points at another build (e.g. a tsc --outDir used for a trial run).
 */
const path = require('node:path');

const dist = process.env.PIXPOOL_DIST || path.join(__dirname, '..', 'dist');
const { createAllocator } = require(path.join(dist, 'src/pool/routing/allocators/index.js'));
const { movedRegions } = require(path.join(dist, 'src/pool/routing/assignment.js'));

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'];
const NAMES = ['balanced', 'round-robin'];
const pct = (moved) => `${((moved / 16) * 100).toFixed(1)} %`;
const moved = (from, to) => movedRegions({ owners: from }, { owners: to }).length;

/** The assignment an allocator reaches by growing one node at a time from a fresh single node. */
function grown(allocator, size) {
  let owners = null;
  for (let k = 1; k <= size; k += 1) owners = allocator.allocate(owners, NODES.slice(0, k));
  return owners;
}

/** 1→2→…→8→7→…→1, each allocator from its own previous assignment; shrinks drop the newest. */
function chain() {
  const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 7, 6, 5, 4, 3, 2, 1];
  const allocators = NAMES.map((name) => createAllocator(name));
  const owners = allocators.map((a) => a.allocate(null, NODES.slice(0, 1)));
  const rows = [];
  const totals = [0, 0];
  for (let i = 1; i < sizes.length; i += 1) {
    const counts = allocators.map((allocator, j) => {
      const next = allocator.allocate(owners[j], NODES.slice(0, sizes[i]));
      const count = moved(owners[j], next);
      owners[j] = next;
      totals[j] += count;
      return count;
    });
    rows.push(
      `| ${sizes[i - 1]} → ${sizes[i]} | ${counts[0]} (${pct(counts[0])}) | ${counts[1]} (${pct(counts[1])}) |`,
    );
  }
  return { rows, totals };
}

/** Every a→b (a ≠ b): grow appends nodes; a shrink averages over every choice of survivors. */
function everyPair() {
  const allocators = NAMES.map((name) => createAllocator(name));
  const totals = [0, 0];
  const cells = [];
  for (let a = 1; a <= 8; a += 1) {
    const row = [];
    for (let b = 1; b <= 8; b += 1) {
      if (a === b) {
        row.push('–');
        continue;
      }
      const means = allocators.map((allocator, j) => {
        const start = grown(allocator, a);
        const pools = b > a ? [NODES.slice(0, b)] : subsets(NODES.slice(0, a), b);
        const sum = pools.reduce((s, pool) => s + moved(start, allocator.allocate(start, pool)), 0);
        totals[j] += sum / pools.length;
        return sum / pools.length;
      });
      row.push(`${fmt(means[0])} / ${fmt(means[1])}`);
    }
    cells.push(`| **${a}** | ${row.join(' | ')} |`);
  }
  return { cells, totals };
}

function subsets(items, k) {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first, ...s]), ...subsets(rest, k)];
}

const fmt = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

module.exports = {
  title: 'Regions moved per pool resize: balanced vs round-robin',
  async run() {
    const c = chain();
    const p = everyPair();
    return [
      "Each resize moves whole regions; a moved region's cached entries must be streamed to the new",
      'owner (or go cold), so regions moved / 16 is the share of cached keys that move.',
      '',
      '### Grow 1 → 8, then shrink 8 → 1 (shrinks remove the newest node)',
      '',
      '| step | balanced | round-robin |',
      '|---|---|---|',
      ...c.rows,
      `| **total** | **${c.totals[0]}** | **${c.totals[1]}** |`,
      '',
      `Round-robin moves **${(c.totals[1] / c.totals[0]).toFixed(2)}×** the regions balanced moves ` +
        `(balanced moves ${pct(c.totals[0] / c.rows.length)} of cached keys per step on average, round-robin ${pct(c.totals[1] / c.rows.length)}).`,
      '',
      '### Every a → b pair (balanced / round-robin regions moved)',
      '',
      'Rows a (from), columns b (to). Each allocator starts from its own assignment grown one node',
      'at a time; a grow appends nodes, a shrink is averaged over every choice of surviving nodes.',
      '',
      `| a \\ b | ${[1, 2, 3, 4, 5, 6, 7, 8].join(' | ')} |`,
      `|---|${'---|'.repeat(8)}`,
      ...p.cells,
      '',
      `Over all 56 pairs: balanced ${fmt(p.totals[0])} regions, round-robin ${fmt(p.totals[1])}; ` +
        `ratio **${(p.totals[1] / p.totals[0]).toFixed(2)}×**.`,
    ].join('\n');
  },
};
