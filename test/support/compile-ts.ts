import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Transpiles a TypeScript entry file and every relative import it reaches into a folder under
 * os.tmpdir(), so a test can run the real program as a child process without `npm run build`
 * (ts-jest compiles in memory only, and a whole-tree build may be mid-edit elsewhere). Type
 * checking is left to tsc/ts-jest, as for the rest of the tests.
 *
 * The folder is named by a hash of the sources, so an unchanged tree reuses the previous output
 * and parallel Jest workers share it (each writes to a private folder and renames it in place).
 * Package imports resolve through NODE_PATH=<repo>/node_modules (see `nodePathEnv`).
 *
 * Returns the path of the compiled entry (.js), laid out as under the repository root.
 */
export function compileTs(entry: string, name = path.basename(entry, '.ts')): string {
  const absoluteEntry = path.resolve(ROOT, entry);
  const sources = collectSources(absoluteEntry);
  const hash = createHash('sha256').update(ts.version);
  for (const [file, text] of sources)
    hash.update(path.relative(ROOT, file)).update('\0').update(text).update('\0');
  const outDir = path.join(os.tmpdir(), `pixpool-${name}-${hash.digest('hex').slice(0, 16)}`);
  const compiledEntry = path.join(outDir, toJsPath(absoluteEntry));
  if (fs.existsSync(path.join(outDir, '.complete'))) return compiledEntry;

  const staging = `${outDir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  for (const [file, text] of sources) {
    const output = ts.transpileModule(text, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        inlineSourceMap: true,
        inlineSources: true,
      },
    });
    const target = path.join(staging, toJsPath(file));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, output.outputText);
  }
  fs.writeFileSync(path.join(staging, '.complete'), new Date().toISOString());
  try {
    fs.renameSync(staging, outDir);
  } catch {
    // Another worker finished first with identical output: use theirs.
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return compiledEntry;
}

/** Env entry that lets compiled output outside the repository find its packages. */
export function nodePathEnv(): Record<string, string> {
  return { NODE_PATH: path.join(ROOT, 'node_modules') };
}

function toJsPath(file: string): string {
  return path.relative(ROOT, file).replace(/\.ts$/, '.js');
}

/** The entry and every .ts file reachable through relative imports, with their text. */
function collectSources(entry: string): Map<string, string> {
  const sources = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (sources.has(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    sources.set(file, text);
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue;
      const resolved = resolveTs(path.resolve(path.dirname(file), imported.fileName));
      if (!resolved)
        throw new Error(`${path.relative(ROOT, file)}: cannot resolve ${imported.fileName}`);
      pending.push(resolved);
    }
  }
  return new Map([...sources].sort(([a], [b]) => a.localeCompare(b)));
}

function resolveTs(base: string): string | undefined {
  return [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => fs.existsSync(candidate));
}
