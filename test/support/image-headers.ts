import { FILE_TYPE_SIGNATURES, FTYP_BRANDS } from './file-type-signatures';

/**
 * The first bytes of a real file of each accepted format (enough for any magic-byte check), padded
 * to `size` with `fill`. Built by hand from each format's specification.
 */
export function imageHeader(name: string, size = 64, fill = 0): Buffer {
  const head = HEADERS[name];
  if (!head) throw new Error(`no header for ${name}`);
  const out = Buffer.alloc(Math.max(size, head.length), fill);
  head.copy(out);
  return out;
}

function ftyp(major: string, ...compatible: string[]): Buffer {
  const box = Buffer.alloc(16 + 4 * compatible.length);
  box.writeUInt32BE(box.length, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(major, 8, 'latin1');
  compatible.forEach((brand, i) => box.write(brand, 16 + 4 * i, 'latin1'));
  return box;
}

const bmp = Buffer.alloc(30);
bmp.write('BM', 0, 'latin1');
bmp.writeUInt32LE(30 + 4, 2);
bmp.writeUInt32LE(26, 10);
bmp.writeUInt32LE(12, 14); // BITMAPCOREHEADER
bmp.writeUInt16LE(1, 18);
bmp.writeUInt16LE(1, 20);

const ico = Buffer.alloc(22);
ico.writeUInt16LE(1, 2); // icon
ico.writeUInt16LE(1, 4); // one image
ico[6] = 16; // 16 × 16
ico[7] = 16;
ico.writeUInt32LE(40, 14);
ico.writeUInt32LE(22, 18); // data right after the directory

const HEADERS: Record<string, Buffer> = {
  JPEG: Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
  PNG: Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008020000009091683600', 'hex'),
  GIF: Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([1, 0, 1, 0, 0x80, 0, 0])]),
  WebP: Buffer.concat([
    Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8L', 'latin1'),
    Buffer.from('0d0000002f00000010070000', 'hex'),
  ]),
  AVIF: ftyp('avif', 'mif1', 'miaf', 'MA1B'),
  BMP: bmp,
  TIFF: Buffer.from('49492a00080000000000', 'hex'),
  ICO: ico,
  HEIC: ftyp('heic', 'mif1', 'heic'),
  HEIF: ftyp('mif1', 'mif1', 'miaf'),
};

export const ACCEPTED_FORMATS: Record<string, string> = {
  JPEG: 'image/jpeg',
  PNG: 'image/png',
  GIF: 'image/gif',
  WebP: 'image/webp',
  AVIF: 'image/avif',
  BMP: 'image/bmp',
  TIFF: 'image/tiff',
  ICO: 'image/x-icon',
  HEIC: 'image/heic',
  HEIF: 'image/heif',
};

/** The 80-byte ASF file that put file-type 16 into an endless loop: its header GUID, then zeros. */
export function asfHang(): Buffer {
  const asf = Buffer.alloc(80);
  Buffer.from('3026b2758e66cf11a6d900aa0062ce6c', 'hex').copy(asf);
  return asf;
}

/** Every signature file-type 16 knows, laid at its offset, as a file start (ftyp brands too). */
export function knownSignatures(): Buffer[] {
  const starts: Buffer[] = FILE_TYPE_SIGNATURES.map(([offset, hex]) => {
    const sig = Buffer.from(hex, 'hex');
    const start = Buffer.alloc(offset + sig.length);
    sig.copy(start, offset);
    return start;
  });
  for (const brand of FTYP_BRANDS) starts.push(ftyp(brand.padEnd(4, ' ')));
  starts.push(asfHang().subarray(0, 16));
  return starts;
}
