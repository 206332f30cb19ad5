import fc from 'fast-check';
import sharp from 'sharp';
import { sniffImageFormat } from '../../src/image/image-formats';
import { AppProcess, startApp } from '../support/app-process';
import { countBlobs } from '../support/blobs';
import { postJson, upload } from '../support/http';
import { ACCEPTED_FORMATS, asfHang, imageHeader, knownSignatures } from '../support/image-headers';

/**
 * Files built to trip type sniffers, sent through POST /api/upload of the real app: each gets a
 * 4xx at once, nothing is stored, and the app keeps answering /health between them.
 */
describe('hostile uploads (real app)', () => {
  let app: AppProcess;

  beforeAll(async () => {
    // Batches of 16 uploads at once stand for 16 clients, all on one address here.
    app = await startApp({ env: { PIXPOOL_LIMITS_MAX_UPLOADS_PER_CLIENT: '16' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function expectHealthy() {
    const res = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(200);
  }

  /**
   * Uploads in batches of 16, checking /health after each: a file is stored (200) exactly when it
   * starts like an accepted format (some signatures are images' own, e.g. JPEG's) and, for the
   * formats libvips reads, its header decodes as that format; else 415.
   */
  async function expectVerdicts(files: Buffer[], prefix: string) {
    const before = countBlobs(app);
    let accepted = 0;
    for (let i = 0; i < files.length; i += 16) {
      const batch = files.slice(i, i + 16);
      const answers = await Promise.all(
        batch.map((file, j) => upload(app.url, `${prefix}${i + j}`, file)),
      );
      const expected = await Promise.all(batch.map(isAcceptable));
      answers.forEach(({ status }, j) => {
        expect({ file: batch[j].toString('hex'), status }).toEqual({
          file: batch[j].toString('hex'),
          status: expected[j] ? 200 : 415,
        });
        if (expected[j]) accepted++;
      });
      await expectHealthy();
    }
    const keys = (await postJson(`${app.url}/api/list_keys`)).body.keys as string[];
    expect(keys.filter((k) => k.startsWith(prefix))).toHaveLength(accepted);
    expect(countBlobs(app) - before).toBe(accepted);
  }

  it('refuses a JPEG magic followed by junk with 415: the header must decode, not only the magic match', async () => {
    const fake = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300, 7)]);
    expect(sniffImageFormat(fake)?.name).toBe('JPEG');
    const res = await upload(app.url, 'fake-jpeg', fake, 'photo.jpg');
    expect(res).toEqual({
      status: 415,
      body: {
        success: 'false',
        error: {
          code: 415,
          message: expect.stringMatching(/starts like image\/jpeg but is not a valid image/),
        },
      },
    });
    expect((await postJson(`${app.url}/api/key/fake-jpeg`)).status).toBe(404);
  });

  it('answers the 80-byte ASF file that hung file-type 16 with 415 at once', async () => {
    const res = await upload(app.url, 'asf', asfHang(), 'movie.asf');
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      success: 'false',
      error: { code: 415, message: expect.stringMatching(/not a supported image/) },
    });
    await expectHealthy();
  });

  it('refuses every signature file-type knows, with zeros, 0xff, junk or truncated, with 415 unless it starts an image', async () => {
    const junk = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 131 + 7) & 0xff));
    const files = knownSignatures().flatMap((sig) => [
      Buffer.concat([sig, Buffer.alloc(80)]),
      Buffer.concat([sig, Buffer.alloc(80, 0xff)]),
      Buffer.concat([sig, junk]),
      sig.subarray(0, Math.max(1, sig.length - 1)),
    ]);
    await expectVerdicts(files, 's');
  });

  it('gives 300 generated files a 200 exactly when they are an accepted format, else a 415', async () => {
    const files = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => Buffer.from(b)),
        fc
          .tuple(
            fc.constantFrom(...Object.keys(ACCEPTED_FORMATS)),
            fc.array(fc.tuple(fc.nat(63), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
            fc.integer({ min: 1, max: 80 }),
          )
          .map(([name, flips, length]) => {
            const file = imageHeader(name, 80);
            for (const [at, value] of flips) file[at] = value;
            return file.subarray(0, length);
          }),
      ),
      300,
    );
    await expectVerdicts(files, 'f');
  });
});

/** The libvips format each sniffed type must decode as; BMP, ICO, HEIC are checked by magic alone. */
const DECODED_AS: Record<string, string> = {
  JPEG: 'jpeg',
  PNG: 'png',
  GIF: 'gif',
  WebP: 'webp',
  AVIF: 'heif',
  TIFF: 'tiff',
};

/** What the upload should do with a file: sniffed as an image, and decoding where libvips can. */
async function isAcceptable(file: Buffer): Promise<boolean> {
  const format = sniffImageFormat(file);
  if (!format) return false;
  const decodedAs = DECODED_AS[format.name];
  if (decodedAs === undefined) return true;
  const meta = await sharp(file, { failOn: 'error', limitInputPixels: false })
    .metadata()
    .catch(() => undefined);
  return meta?.format === decodedAs && !!meta.width && !!meta.height;
}
