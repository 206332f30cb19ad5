import * as fs from 'node:fs';
import * as path from 'node:path';
import { Op } from './history';

interface Failure {
  key: string;
  model: string;
  messages: string[];
  marked: number[];
}

/**
 * Writes a failing key's history as JSON and as a timeline a person can open: one lane per
 * client, each operation a bar from invocation to completion (to the right edge when it never
 * completed), the operations the checker blames in red. Returns the two paths.
 */
export function writeTimeline(outDir: string, failure: Failure, ops: Op[], label = ''): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const base = path.join(
    outDir,
    `${label ? `${label}-` : ''}${safe(failure.key)}-${failure.model}`,
  );
  const json = `${base}.json`;
  const html = `${base}.html`;
  fs.writeFileSync(json, JSON.stringify({ ...failure, ops }, null, 2));
  fs.writeFileSync(html, renderTimeline(failure, ops));
  return [json, html];
}

export function renderTimeline(failure: Failure, ops: Op[]): string {
  const start = Math.min(...ops.map((op) => op.invokedAt));
  const end = Math.max(...ops.map((op) => op.completedAt ?? op.invokedAt));
  const span = Math.max(1, end - start);
  const lanes = [...new Set(ops.map((op) => op.client))].sort();
  const short = (value: string | null) => (value === null ? '∅' : value.slice(0, 6));
  const bars = ops.map((op) => {
    const left = ((op.invokedAt - start) / span) * 100;
    const right = op.completedAt === undefined ? 100 : ((op.completedAt - start) / span) * 100;
    const lane = lanes.indexOf(op.client);
    const text =
      op.kind === 'delete'
        ? 'delete all'
        : `${op.kind === 'write' ? 'w' : op.kind === 'read' ? 'r' : 'ls'} ${short(op.value)}${op.version === undefined ? '' : ` v${op.version}`}`;
    const title = `#${op.id} ${op.kind} ${op.value ?? '∅'} v${op.version ?? '?'} via ${op.via ?? '?'}; ${(op.invokedAt - start) / 1e6} ms → ${op.completedAt === undefined ? 'no answer' : `${(op.completedAt - start) / 1e6} ms`}`;
    const cls = [
      op.kind,
      failure.marked.includes(op.id) ? 'bad' : '',
      op.completedAt === undefined ? 'open' : '',
    ]
      .join(' ')
      .trim();
    return `<div class="${cls}" style="left:${left}%;width:${Math.max(0.2, right - left)}%;top:${lane * 28 + 4}px" title="${escape(title)}">#${op.id} ${escape(text)}</div>`;
  });
  const names = lanes.map((l, i) => `<span style="top:${i * 28 + 8}px">${escape(l)}</span>`);
  return `<!doctype html><meta charset="utf-8"><title>${escape(failure.key)}: ${failure.model}</title>
<style>body{font:12px sans-serif}#t{position:relative;margin-left:140px;height:${lanes.length * 28 + 8}px;border-left:1px solid #999}
#t div{position:absolute;height:22px;overflow:hidden;white-space:nowrap;border-radius:3px;padding:0 2px;box-sizing:border-box;line-height:22px}
.write{background:#9cf}.read{background:#cfc}.exists{background:#eee}.delete{background:#fc9}.open{opacity:.5}
.bad{background:#f55!important;color:#fff;outline:2px solid #900}#n span{position:absolute;left:4px}</style>
<h1>key ${escape(failure.key)}: ${failure.model}</h1><ul>${failure.messages.map((m) => `<li>${escape(m)}</li>`).join('')}</ul>
<p>One lane per client; time runs left to right over ${(span / 1e6).toFixed(1)} ms; red: the operations the checker blames; faded: no answer. Hover for details.</p>
<div id="n" style="position:relative">${names.join('')}</div><div id="t">${bars.join('\n')}</div>`;
}

function safe(key: string): string {
  return key.replace(/[^\w.-]+/g, '_').slice(0, 80);
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
