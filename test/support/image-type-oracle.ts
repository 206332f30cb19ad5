/* eslint-disable no-control-regex -- the patterns are over binary headers: control bytes are the point */
/**
 * An oracle for the image-type sniffer (src/image/image-formats.ts), written apart from it and
 * in another style (patterns over the bytes as latin1 text, lengths read with DataView), from
 * the formats' own definitions: the fuzz tests compare the two verdicts, so a slip in either
 * shows as a disagreement instead of agreeing with itself. `headBytes` is how much of a file the
 * sniffer may read.
 */
export function oracleImageType(file: Uint8Array, headBytes: number): string | undefined {
  const b = file.subarray(0, headBytes);
  const text = Buffer.from(b).toString('latin1');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (at: number, little: boolean) =>
    at + 4 <= b.length ? view.getUint32(at, little) : -1;

  if (/^\xff\xd8\xff[\xc0-\xff]/.test(text)) return 'image/jpeg';
  if (
    /^\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR/.test(text) &&
    u32(16, false) > 0 &&
    u32(20, false) > 0
  )
    return 'image/png';
  if (/^GIF8[79]a[\s\S]{7}/.test(text)) return 'image/gif';
  if (/^RIFF[\s\S]{4}WEBPVP8[ LX]/.test(text)) return 'image/webp';
  if (/^BM/.test(text) && [12, 16, 40, 52, 56, 64, 108, 124].includes(u32(14, true)))
    return 'image/bmp';
  if (/^II\x2a\x00/.test(text) && u32(4, true) >= 8) return 'image/tiff';
  if (/^MM\x00\x2a/.test(text) && u32(4, false) >= 8) return 'image/tiff';
  if (/^\x00\x00[\x01\x02]\x00/.test(text) && b.length >= 22) {
    const images = view.getUint16(4, true);
    if (images > 0 && b[9] === 0 && u32(18, true) >= 6 + 16 * images) return 'image/x-icon';
  }
  return heifFamily(text, u32(0, false));
}

/** ISO-BMFF `ftyp`: a HEIF major brand; AVIF or HEIC when a brand of theirs is listed. */
function heifFamily(text: string, boxSize: number): string | undefined {
  if (text.slice(4, 8) !== 'ftyp' || text.length < 16) return undefined;
  if (boxSize < 16 || (boxSize - 16) % 4 !== 0) return undefined;
  const major = text.slice(8, 12);
  const listed = text.slice(16, Math.min(boxSize, text.length)).match(/[\s\S]{4}/g) ?? [];
  const brands = [major, ...listed];
  if (!['mif1', 'avif', 'avis', 'heic', 'heix', 'heim', 'heis'].includes(major)) return undefined;
  if (brands.some((brand) => brand === 'avif' || brand === 'avis')) return 'image/avif';
  if (brands.some((brand) => ['heic', 'heix', 'heim', 'heis'].includes(brand))) return 'image/heic';
  return 'image/heif';
}
