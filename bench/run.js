#!/usr/bin/env node
/*
 * Runs every bench/*.bench.js in turn (or those named on the command line) and writes their
 * markdown sections into bench/RESULTS.md. Each bench module exports
 *   { title: string, run(): Promise<string> }   // run() returns markdown
 * and measures pixpool against a baseline in the same run, so figures are ratios.
 */
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const only = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  const sections = [];
  for (const file of files) {
    const bench = require(path.join(__dirname, file));
    console.log(`\n=== ${bench.title} (${file})`);
    const started = Date.now();
    const markdown = await bench.run();
    console.log(markdown);
    sections.push(`## ${bench.title}\n\n${markdown.trim()}\n\n_${file}, ${((Date.now() - started) / 1000).toFixed(0)} s_\n`);
  }
  const header =
    `# Benchmark results\n\nWritten by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} ` +
    `(${require('node:os').cpus().length} cores, Node ${process.version}). Ratios compare against a baseline measured in the same run.\n\n`;
  if (only.length === 0) fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), header + sections.join('\n'));
  else console.log('\n(partial run: bench/RESULTS.md left unchanged)');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
