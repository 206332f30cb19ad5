/**
 * The image formats uploads may have, one entry each: the magic bytes at the start of the file and
 * the smallest structural check that tells a real header from a file that merely starts alike.
 *
 * Why our own table and not a general sniffer: file-type 16 (the last CommonJS release) loops for
 * ever on an 80-byte ASF header, and its fix was never released for 16.x. A sniffer that knows
 * hundreds of formats parses containers we would refuse anyway; this one reads at most
 * SNIFF_BYTES of the file, has no loops over declared sizes, and knows only what we accept.
 */

/** The most any check reads; the ISO-BMFF brand list is the longest. */
export const SNIFF_BYTES = 256;

export interface ImageFormat {
  name: string;
  mime: string;
  /** True when `head` (the first bytes of the file, at most SNIFF_BYTES) is this format. */
  matches(head: Uint8Array): boolean;
}

const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u32le = (b: Uint8Array, at: number) => u16le(b, at) + u16le(b, at + 2) * 0x10000;
const u32be = (b: Uint8Array, at: number) =>
  b[at] * 0x1000000 + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);

function startsWith(b: Uint8Array, signature: readonly number[], at = 0): boolean {
  if (b.length < at + signature.length) return false;
  for (let i = 0; i < signature.length; i++) if (b[at + i] !== signature[i]) return false;
  return true;
}

const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
const fourcc = (b: Uint8Array, at: number) =>
  b.length < at + 4 ? '' : String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);

/** ISO-BMFF (HEIF family): the `ftyp` box's major and compatible brands, bounded by SNIFF_BYTES. */
function ftypBrands(b: Uint8Array): string[] | undefined {
  if (fourcc(b, 4) !== 'ftyp') return undefined;
  const size = u32be(b, 0);
  // size, 'ftyp', major brand, minor version, then whole 4-byte compatible brands.
  if (size < 16 || (size - 16) % 4 !== 0 || b.length < 16) return undefined;
  const end = Math.min(size, b.length, SNIFF_BYTES);
  const brands = [fourcc(b, 8)];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(fourcc(b, at));
  return brands;
}

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis']);
const HEIF_MAJOR_BRANDS = new Set(['mif1', ...AVIF_BRANDS, ...HEIC_BRANDS]);

/** The still-image type of a HEIF-family file: its major brand, refined by the compatible ones. */
function heifKind(b: Uint8Array): 'avif' | 'heic' | 'heif' | undefined {
  const brands = ftypBrands(b);
  if (!brands || !HEIF_MAJOR_BRANDS.has(brands[0])) return undefined;
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  if (brands.some((brand) => HEIC_BRANDS.has(brand))) return 'heic';
  return 'heif';
}

// BITMAPCOREHEADER, OS/2 v2 short, BITMAPINFOHEADER, v2, v3, OS/2 v2, v4, v5.
const BMP_DIB_HEADER_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

export const IMAGE_FORMATS: readonly ImageFormat[] = [
  {
    name: 'JPEG',
    mime: 'image/jpeg',
    // SOI, then the first segment's marker (APPn, DQT, SOF...).
    matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) && b.length >= 4 && b[3] >= 0xc0,
  },
  {
    name: 'PNG',
    mime: 'image/png',
    // Signature, then the IHDR chunk (length 13) with a non-zero width and height.
    matches: (b) =>
      startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) &&
      b.length >= 24 &&
      u32be(b, 8) === 13 &&
      fourcc(b, 12) === 'IHDR' &&
      u32be(b, 16) > 0 &&
      u32be(b, 20) > 0,
  },
  {
    name: 'GIF',
    mime: 'image/gif',
    // Version, then the 7-byte logical screen descriptor.
    matches: (b) =>
      (startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a'))) && b.length >= 13,
  },
  {
    name: 'WebP',
    mime: 'image/webp',
    // RIFF container of form WEBP whose first chunk is lossy, lossless or extended image data.
    matches: (b) =>
      fourcc(b, 0) === 'RIFF' &&
      fourcc(b, 8) === 'WEBP' &&
      ['VP8 ', 'VP8L', 'VP8X'].includes(fourcc(b, 12)),
  },
  { name: 'AVIF', mime: 'image/avif', matches: (b) => heifKind(b) === 'avif' },
  {
    name: 'BMP',
    mime: 'image/bmp',
    // 14-byte file header, then a DIB header of a size one of the BMP versions defines.
    matches: (b) =>
      startsWith(b, ascii('BM')) && b.length >= 18 && BMP_DIB_HEADER_SIZES.has(u32le(b, 14)),
  },
  {
    name: 'TIFF',
    mime: 'image/tiff',
    // Byte order, 42, and the first IFD's offset, which cannot point into the 8-byte header.
    matches: (b) =>
      b.length >= 8 &&
      ((startsWith(b, [0x49, 0x49, 0x2a, 0x00]) && u32le(b, 4) >= 8) ||
        (startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) && u32be(b, 4) >= 8)),
  },
  {
    name: 'ICO',
    mime: 'image/x-icon',
    // Icon (type 1) or cursor (type 2) with at least one 16-byte directory entry, whose reserved
    // byte is zero and whose image data starts after the whole directory.
    matches: (b) => {
      if (!startsWith(b, [0x00, 0x00, 0x01, 0x00]) && !startsWith(b, [0x00, 0x00, 0x02, 0x00]))
        return false;
      if (b.length < 22) return false;
      const count = u16le(b, 4);
      return count > 0 && b[9] === 0 && u32le(b, 18) >= 6 + 16 * count;
    },
  },
  { name: 'HEIC', mime: 'image/heic', matches: (b) => heifKind(b) === 'heic' },
  { name: 'HEIF', mime: 'image/heif', matches: (b) => heifKind(b) === 'heif' },
];

/** Every type an upload can be stored with, and so the only types an image answer may carry. */
export const IMAGE_TYPES: ReadonlySet<string> = new Set(IMAGE_FORMATS.map((f) => f.mime));

/** The format of a file by its first bytes, or undefined. Reads at most SNIFF_BYTES. */
export function sniffImageFormat(file: Uint8Array): ImageFormat | undefined {
  const head = file.subarray(0, SNIFF_BYTES);
  return IMAGE_FORMATS.find((format) => format.matches(head));
}
