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
    sections.push(
      `## ${bench.title}\n\n${markdown.trim()}\n\n_${file}, ${((Date.now() - started) / 1000).toFixed(0)} s, Node ${process.version}_\n`,
    );
  }
  const header =
    `# Benchmark results\n\nWritten by \`npm run bench\` (${require('node:os').cpus().length} cores; ` +
    `each section names the Node version it ran on, since a partial run replaces only its own). ` +
    `Ratios compare against a baseline measured in the same run.\n\n`;
  // A partial run (`npm run bench -- name`) replaces only its own sections.
  const file = path.join(__dirname, 'RESULTS.md');
  const kept =
    only.length > 0 && fs.existsSync(file) ? splitSections(fs.readFileSync(file, 'utf8')) : [];
  const merged = [
    ...kept.filter((old) => !sections.some((s) => title(s) === title(old))),
    ...sections,
  ];
  merged.sort((a, b) => benchFile(a).localeCompare(benchFile(b)));
  const text = header + merged.map((s) => s.trim() + '\n').join('\n');
  // Formatted as the lint step expects (prettier --check runs on the whole tree).
  const prettier = require('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  fs.writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
}

function splitSections(text) {
  return text.split(/^(?=## )/m).filter((part) => part.startsWith('## '));
}

/** The bench file named in a section's footer, so sections keep the order of the files. */
function benchFile(section) {
  return /_(\S+\.bench\.js),/.exec(section)?.[1] ?? '';
}

function title(section) {
  return section.split('\n', 1)[0];
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
