import type { ServerResponse } from 'node:http';
import type { NearEntry } from './near-store';

/** Answers a near hit with the entry's prepared headers; the bytes are written, never copied. */
export function sendNear(
  res: ServerResponse,
  entry: NearEntry,
  ifNoneMatch: string | undefined,
  headOnly: boolean,
): void {
  if (ifNoneMatch !== undefined && matches(ifNoneMatch, entry.etag)) {
    res.writeHead(304, entry.notModifiedHeaders);
    res.end();
    return;
  }
  res.writeHead(200, entry.headers);
  res.end(headOnly ? undefined : entry.body);
}

function matches(header: string, etag: string): boolean {
  if (header === etag || header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
