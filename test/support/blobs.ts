import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppProcess } from './app-process';

/** Files the fs blob store holds for this app (it fans out into subfolders). */
export function countBlobs(app: AppProcess): number {
  const dir = path.join(app.dir, 'blobs');
  if (!fs.existsSync(dir)) return 0;
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.')).length;
}
