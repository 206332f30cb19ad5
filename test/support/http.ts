import * as http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

/** A request with exactly the bytes given (for malformed bodies that fetch would not send). */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string | number>;
    body?: Buffer | string;
  } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
      },
    );
    // The server may answer (413, 400) before it has read the whole body and close: that is fine.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** POST /api/upload with a real multipart body. */
export async function upload(
  baseUrl: string,
  key: string | undefined,
  file: Buffer | undefined,
  filename = 'image.png',
  headers: Record<string, string> = {},
) {
  const form = new FormData();
  if (key !== undefined) form.append('key', key);
  if (file !== undefined) form.append('file', new Blob([new Uint8Array(file)]), filename);
  const res = await fetch(`${baseUrl}/api/upload`, { method: 'POST', body: form, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** POST /api/upload, also returning the version its answer names (the ETag "v<version>"). */
export async function uploadVersioned(baseUrl: string, key: string, file: Buffer) {
  const form = new FormData();
  form.append('key', key);
  form.append('file', new Blob([new Uint8Array(file)]), 'image.png');
  const res = await fetch(`${baseUrl}/api/upload`, { method: 'POST', body: form });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body, version: versionOf(res.headers.get('etag')) };
}

/** The version named by an ETag `"v<version>"`, or undefined. */
export function versionOf(etag: string | null): number | undefined {
  const match = /^"v(\d+)"$/.exec(etag ?? '');
  return match ? Number(match[1]) : undefined;
}

export async function postJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
