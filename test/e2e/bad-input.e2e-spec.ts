import { AppProcess, startApp } from '../support/app-process';
import { makePng } from '../support/images';
import { postJson, rawRequest, upload } from '../support/http';
import { countBlobs } from '../support/blobs';

const LIMIT = 64 * 1024;

/**
 * Every malformed request gets a 4xx in the course's failure shape, nothing is written, and the
 * app keeps serving.
 */
describe('bad input (real app)', () => {
  let app: AppProcess;
  const png = makePng(2000);

  beforeAll(async () => {
    app = await startApp({ env: { PIXPOOL_SERVER_UPLOAD_LIMIT_BYTES: String(LIMIT) } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function expectNothingWritten() {
    expect((await postJson(`${app.url}/api/list_keys`)).body).toEqual({
      success: 'true',
      keys: [],
    });
    expect(countBlobs(app)).toBe(0);
  }

  function expectFailure(res: { status: number; body: unknown }, status: number, message: RegExp) {
    expect(res.status).toBe(status);
    expect(res.body).toEqual({
      success: 'false',
      error: { code: status, message: expect.stringMatching(message) },
    });
  }

  const multipart = (parts: string, boundary = 'XyZ') => ({
    method: 'POST',
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    body: parts,
  });

  it.each([
    ['missing key', () => upload(app.url, undefined, png), 400, /key is required/],
    ['empty key', () => upload(app.url, '', png), 400, /key is required/],
    ['missing file', () => upload(app.url, 'k', undefined), 400, /file is required/],
    ['empty file', () => upload(app.url, 'k', Buffer.alloc(0)), 400, /file is empty/],
    [
      'a text file',
      () => upload(app.url, 'k', Buffer.from('hello, not an image')),
      415,
      /not a supported image/,
    ],
    [
      'a PDF',
      () => upload(app.url, 'k', Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj')),
      415,
      /not a supported image/,
    ],
    [
      'an SVG',
      () => upload(app.url, 'k', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')),
      415,
      /not a supported image/,
    ],
    [
      'a file over the size limit',
      () => upload(app.url, 'k', makePng(LIMIT * 2)),
      413,
      /too large/i,
    ],
    ['a key too long', () => upload(app.url, 'k'.repeat(251), png), 400, /longer than 250 bytes/],
    [
      'a key of 251 bytes in 2-byte characters',
      () => upload(app.url, 'é'.repeat(126), png),
      400,
      /longer than 250/,
    ],
    ['a key with a newline', () => upload(app.url, 'a\nb', png), 400, /control characters/],
    ['a key with a NUL', () => upload(app.url, 'a\u0000b', png), 400, /control characters/],
    ['a key with surrounding spaces', () => upload(app.url, ' k ', png), 400, /white space/],
  ])('upload with %s', async (_name, send, status, message) => {
    expectFailure(await send(), status, message);
    await expectNothingWritten();
  });

  it('refuses JSON instead of multipart', async () => {
    const res = await rawRequest(`${app.url}/api/upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ key: 'k', file: png.toString('base64') }),
    });
    expectFailure({ status: res.status, body: res.json() }, 415, /multipart\/form-data/);
    await expectNothingWritten();
  });

  it('refuses malformed multipart: truncated body', async () => {
    const res = await rawRequest(
      `${app.url}/api/upload`,
      multipart(
        '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n' +
          png.subarray(0, 100).toString('latin1'),
      ),
    );
    expectFailure({ status: res.status, body: res.json() }, 400, /Multipart|Unexpected end/i);
    await expectNothingWritten();
  });

  it('refuses malformed multipart: no boundary', async () => {
    const res = await rawRequest(`${app.url}/api/upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data' },
      body: 'garbage',
    });
    expectFailure({ status: res.status, body: res.json() }, 400, /boundary/i);
    await expectNothingWritten();
  });

  it('refuses a second file or a file under another field name', async () => {
    const form = new FormData();
    form.append('key', 'k');
    form.append('file', new Blob([new Uint8Array(png)]), 'a.png');
    form.append('other', new Blob([new Uint8Array(png)]), 'b.png');
    const res = await fetch(`${app.url}/api/upload`, { method: 'POST', body: form });
    expectFailure({ status: res.status, body: await res.json() }, 400, /Unexpected|Too many/i);
    await expectNothingWritten();
  });

  it('answers an unknown key with 404 on every read route', async () => {
    expectFailure(await postJson(`${app.url}/api/key/nope`), 404, /unknown key: nope/);
    const raw = await fetch(`${app.url}/images/nope`);
    expectFailure({ status: raw.status, body: await raw.json() }, 404, /unknown key/);
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const res = await fetch(`${app.url}/api/upload`, { method: 'PUT' });
    expect(res.headers.get('allow')).toBe('POST');
    expectFailure({ status: res.status, body: await res.json() }, 405, /PUT is not allowed/);
    const clear = await fetch(`${app.url}/api/clear/data`, { method: 'POST' });
    expectFailure({ status: clear.status, body: await clear.json() }, 405, /use DELETE/);
  });

  it('answers an unknown route with 404 in the failure shape', async () => {
    const res = await fetch(`${app.url}/api/nothing-here`, { method: 'POST' });
    expectFailure({ status: res.status, body: await res.json() }, 404, /Cannot POST/);
  });

  it('answers invalid JSON with 400', async () => {
    const res = await rawRequest(`${app.url}/api/list_keys`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"broken',
    });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ success: 'false', error: { code: 400 } });
  });

  it('is still alive and works after all of that', async () => {
    expect((await upload(app.url, 'fine', png)).status).toBe(200);
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
  });
});
