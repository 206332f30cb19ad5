import sharp from 'sharp';
import { AppProcess, startApp } from '../support/app-process';
import { postJson, upload } from '../support/http';
import { makeBombPng } from '../support/images';
import { UrlSigner } from '../../src/imaging/url-signature';

const KEY_A = 'a'.repeat(40);
const KEY_B = 'b'.repeat(40);

/** A 600x400 JPEG whose EXIF says "rotate 90° clockwise", with a GPS position. */
function phonePhoto(): Promise<Buffer> {
  return sharp({ create: { width: 600, height: 400, channels: 3, background: '#c33' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'Phone' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '43/1 39/1 0/1' },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

async function get(app: AppProcess, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}${path}`, { headers });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

describe('image variants on /images/:key (real app)', () => {
  let app: AppProcess;
  const signer = new UrlSigner([KEY_A]);
  const signed = (path: string) => `${path}&sig=${signer.sign(path)}`;

  beforeAll(async () => {
    app = await startApp({
      env: {
        PIXPOOL_IMAGING_SIGNING_KEYS: `${KEY_A},${KEY_B}`,
        PIXPOOL_IMAGING_PRESETS: 'thumb:w=320&h=320&fit=cover;wide:w=300',
      },
    });
    expect((await upload(app.url, 'photo', await phonePhoto(), 'p.jpg')).status).toBe(200);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('renders a preset: EXIF orientation applied, metadata stripped, an ETag naming version and variant', async () => {
    const { res, body } = await get(app, '/images/photo?preset=wide');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('etag')).toMatch(/^"v\d+-300x-inside-original-q80"$/);
    expect(res.headers.get('vary')).toBe('Accept');
    const meta = await sharp(body).metadata();
    // 600x400 turned upright is 400x600; 300 wide keeps the ratio.
    expect([meta.width, meta.height]).toEqual([300, 450]);
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
  });

  it('combines a preset with fmt, and negotiates fmt=auto from Accept', async () => {
    const webp = await get(app, '/images/photo?preset=thumb&fmt=webp');
    expect(webp.res.headers.get('content-type')).toBe('image/webp');
    expect(await sharp(webp.body).metadata()).toMatchObject({
      format: 'webp',
      width: 320,
      height: 320,
    });

    const avif = await get(app, '/images/photo?preset=thumb&fmt=auto', {
      Accept: 'image/avif,image/webp,*/*',
    });
    expect(avif.res.headers.get('content-type')).toBe('image/avif');
    expect(avif.res.headers.get('etag')).toContain('-320x320-cover-avif-q80');
    const plain = await get(app, '/images/photo?preset=thumb&fmt=auto', { Accept: '*/*' });
    expect(plain.res.headers.get('content-type')).toBe('image/jpeg');
    expect(plain.res.headers.get('vary')).toBe('Accept');
  });

  it('renders an arbitrary size only when signed, by either key', async () => {
    const { res, body } = await get(app, signed('/images/photo?w=100&h=100&fit=contain&fmt=png'));
    expect(res.status).toBe(200);
    expect(await sharp(body).metadata()).toMatchObject({ format: 'png', width: 100, height: 100 });
    const byOldKey = new UrlSigner([KEY_B]).sign('/images/photo?w=90');
    expect((await get(app, `/images/photo?w=90&sig=${byOldKey}`)).res.status).toBe(200);
  });

  it.each([
    ['an unsigned size', '/images/photo?w=100', 403, 'need a signed URL'],
    ['a bad signature', `/images/photo?w=100&sig=${'A'.repeat(43)}`, 403, 'sig does not match'],
    ['a signature for another size', '/images/photo?w=101&sig=SIG100', 403, 'sig does not match'],
    ['an unknown preset', '/images/photo?preset=huge', 400, 'unknown preset "huge"'],
    ['a size over the limit', '/images/photo?w=5000', 400, 'w must be an integer 1..4096'],
    [
      'an unknown parameter beside a preset',
      '/images/photo?preset=thumb&width=5',
      400,
      'unknown image parameter',
    ],
    ['a bad fit', '/images/photo?preset=thumb&fit=fill', 400, 'fit must be one of'],
  ])('refuses %s with a JSON error', async (_what, rawPath, status, message) => {
    const path = rawPath.replace('SIG100', signer.sign('/images/photo?w=100'));
    const { res, body } = await get(app, path);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const json = JSON.parse(body.toString()) as {
      success: string;
      error: { code: number; message: string };
    };
    expect(json.success).toBe('false');
    expect(json.error.code).toBe(status);
    expect(json.error.message).toContain(message);
  });

  it('answers ?v= of the current version as immutable, an old v with 404, and unversioned with no-cache', async () => {
    const described = await fetch(`${app.url}/api/images/photo`);
    const version = ((await described.json()) as { version: number }).version;
    const IMMUTABLE = 'public, max-age=31536000, immutable';
    for (const path of [
      `/images/photo?v=${version}`,
      `/images/photo?preset=thumb&fmt=webp&v=${version}`,
      signed(`/images/photo?w=50&v=${version}`),
    ]) {
      const { res } = await get(app, path);
      expect({ path, status: res.status, cache: res.headers.get('cache-control') }).toEqual({
        path,
        status: 200,
        cache: IMMUTABLE,
      });
      expect(res.headers.get('etag')).toContain(`"v${version}`);
    }
    expect((await get(app, '/images/photo?preset=thumb')).res.headers.get('cache-control')).toBe(
      'no-cache',
    );
    const old = await get(app, `/images/photo?preset=thumb&v=${version - 1}`);
    expect(old.res.status).toBe(404);
    expect(old.body.toString()).toContain(`is not the current one (${version})`);

    expect((await upload(app.url, 'photo', await phonePhoto(), 'p.jpg')).status).toBe(200);
    expect((await get(app, `/images/photo?v=${version}`)).res.status).toBe(404);
    const current = (
      (await (await fetch(`${app.url}/api/images/photo`)).json()) as { version: number }
    ).version;
    expect(current).toBeGreaterThan(version);
    expect((await get(app, `/images/photo?preset=thumb&v=${current}`)).res.status).toBe(200);
  });

  it('keeps the original route as it was', async () => {
    const { res, body } = await get(app, '/images/photo');
    expect(res.headers.get('etag')).toMatch(/^"v\d+"$/);
    expect(res.headers.get('vary')).toBeNull();
    expect((await sharp(body).metadata()).orientation).toBe(6);
    expect((await get(app, '/images/nothing?preset=thumb')).res.status).toBe(404);
  });
});

describe('variant transforms are bounded (real app, one at a time, one waiting)', () => {
  let app: AppProcess;
  const signer = new UrlSigner([KEY_A]);

  beforeAll(async () => {
    app = await startApp({
      env: {
        PIXPOOL_IMAGING_SIGNING_KEYS: KEY_A,
        PIXPOOL_IMAGING_CONCURRENCY: '1',
        PIXPOOL_IMAGING_QUEUE_LIMIT: '1',
      },
    });
    const big = await sharp({
      create: {
        width: 2000,
        height: 2000,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .jpeg()
      .toBuffer();
    expect((await upload(app.url, 'big', big, 'big.jpg')).status).toBe(200);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('refuses what does not fit with 503 + Retry-After, and counts it in /metrics', async () => {
    const paths = Array.from({ length: 12 }, (_, i) => {
      const path = `/images/big?w=${100 + i}&fmt=webp`;
      return `${path}&sig=${signer.sign(path)}`;
    });
    const answers = await Promise.all(paths.map((path) => get(app, path)));
    const statuses = answers.map((a) => a.res.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const refused = answers.find((a) => a.res.status === 503)!;
    expect(refused.res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.body.toString()).toContain('too many variants being rendered');

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/pixpool_transform_refusals_total\{reason="queue_full"\} [1-9]/);
    expect(metrics).toMatch(/pixpool_transform_duration_seconds_count [1-9]/);
    expect(metrics).toMatch(/pixpool_transform_queue_length 0/);
  });

  it('renders a variant once for concurrent readers of it', async () => {
    const path = '/images/big?w=333&fmt=webp';
    const url = `${path}&sig=${signer.sign(path)}`;
    const before = await transformCount(app);
    const answers = await Promise.all(Array.from({ length: 2 }, () => get(app, url)));
    expect(answers.map((a) => a.res.status)).toEqual([200, 200]);
    expect(answers[0].body.equals(answers[1].body)).toBe(true);
    expect((await transformCount(app)) - before).toBe(1);
  });
});

async function transformCount(app: AppProcess): Promise<number> {
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  return Number(/pixpool_transform_duration_seconds_count (\d+)/.exec(metrics)?.[1] ?? NaN);
}

describe('decompression bombs and frame limits (real app)', () => {
  let app: AppProcess;

  beforeAll(async () => {
    app = await startApp({ env: { PIXPOOL_IMAGING_MAX_FRAMES: '2' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('refuses at upload a PNG whose header claims 30000x30000 pixels with 413, storing nothing', async () => {
    const bomb = makeBombPng(30_000);
    expect(bomb.length).toBeLessThan(2048);
    const res = await upload(app.url, 'bomb', bomb, 'bomb.png');
    expect(res).toEqual({
      status: 413,
      body: {
        success: 'false',
        error: {
          code: 413,
          message: expect.stringContaining('30000x30000 is more than 40000000 pixels'),
        },
      },
    });
    expect((await postJson(`${app.url}/api/key/bomb`)).status).toBe(404);
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
  });

  it('refuses at upload an animation with more frames than allowed with 413', async () => {
    const frame = (background: string) =>
      sharp({ create: { width: 8, height: 8, channels: 3, background } })
        .png()
        .toBuffer();
    const frames = await Promise.all(['red', 'green', 'blue'].map(frame));
    const gif = await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer();
    const res = await upload(app.url, 'anim', gif, 'anim.gif');
    expect(res.status).toBe(413);
    expect(JSON.stringify(res.body)).toContain('3 frames, more than 2');
  });

  it('refuses a variant of a source stored before the pixel limit was lowered with 422', async () => {
    const large = await sharp({
      create: { width: 1500, height: 1000, channels: 3, background: '#888' },
    })
      .jpeg()
      .toBuffer();
    expect((await upload(app.url, 'large', large, 'large.jpg')).status).toBe(200);
    app.env.PIXPOOL_IMAGING_MAX_INPUT_PIXELS = '1000000';
    await app.restart();
    const res = await fetch(`${app.url}/images/large?preset=thumb`);
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('1500x1000 is more than 1000000 pixels');
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/pixpool_transform_refusals_total\{reason="source"\} 1/);
    expect((await fetch(`${app.url}/images/large`)).status).toBe(200);
  });
});
