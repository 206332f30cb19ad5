import type { IncomingMessage } from 'node:http';

export type BodyResult = Buffer | 'too_large' | 'aborted';

/** Where a body goes: an exactly-sized buffer of its own (a pool block for values). */
export type Allocate = (length: number) => Buffer;

const plainBuffer: Allocate = (length) => Buffer.allocUnsafeSlow(length);

/**
 * Declared lengths up to this get their buffer at once (one copy of each chunk). Larger bodies are
 * gathered and copied once at the end: a client that declares 10 MiB and sends a byte, on many
 * connections, must not make the node hold 10 MiB for each (memory follows the bytes received).
 */
const EAGER_BYTES = 64 * 1024;

/**
 * Reads a request body into one exactly-sized buffer from `allocate` (never a slice of Node's
 * shared pool, which a stored value would pin). `declared` is the Content-Length, or -1 for a
 * chunked body; a chunked or large body is gathered and then copied once. The callback runs exactly once; 'aborted'
 * means the connection went away before the end (nothing can be answered then; `discard` gets
 * the buffer back).
 */
export function readBody(
  req: IncomingMessage,
  declared: number,
  limit: number,
  done: (result: BodyResult) => void,
  allocate: Allocate = plainBuffer,
  discard: (buffer: Buffer) => void = () => undefined,
): void {
  let finished = false;
  const finish = (result: BodyResult): void => {
    if (finished) return;
    finished = true;
    if (result === 'aborted' && exact) discard(exact);
    done(result);
  };
  let exact: Buffer | null = declared >= 0 && declared <= EAGER_BYTES ? allocate(declared) : null;
  const chunks: Buffer[] = [];
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    if (finished) return;
    if (received + chunk.length > (declared >= 0 ? declared : limit)) {
      // Only reachable for chunked bodies: the parser never passes more than Content-Length.
      exact = null;
      chunks.length = 0;
      return finish('too_large');
    }
    if (exact) chunk.copy(exact, received);
    else chunks.push(chunk);
    received += chunk.length;
  });
  req.on('end', () => {
    if (exact) return finish(received === exact.length ? exact : 'aborted');
    if (declared >= 0 && received !== declared) return finish('aborted');
    const body = allocate(received);
    let offset = 0;
    for (const chunk of chunks) offset += chunk.copy(body, offset);
    finish(body);
  });
  // 'close' also follows a normal 'end' (then a no-op); without an 'error' listener Node does not
  // emit the abort error on the request (see IncomingMessage._destroy).
  req.on('close', () => finish('aborted'));
}

export type JsonResult =
  { ok: true; value: unknown } | { ok: false; reason: 'too_large' | 'bad_json' | 'aborted' };

export function readJson(req: IncomingMessage, limit: number): Promise<JsonResult> {
  return new Promise((resolve) => {
    readBody(req, -1, limit, (body) => {
      if (body === 'too_large' || body === 'aborted') return resolve({ ok: false, reason: body });
      if (body.length === 0) return resolve({ ok: true, value: {} });
      try {
        resolve({ ok: true, value: JSON.parse(body.toString('utf8')) });
      } catch {
        resolve({ ok: false, reason: 'bad_json' });
      }
    });
  });
}
