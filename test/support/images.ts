import { crc32, deflateSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';

/**
 * A valid PNG of about `approxBytes` bytes (random pixels, so it does not compress), for tests and
 * benchmarks that need real images that pass magic-byte checks and render in a browser.
 */
export function makePng(approxBytes = 2048): Buffer {
  const side = Math.max(1, Math.ceil(Math.sqrt(approxBytes / 3)));
  const rowBytes = 1 + side * 3;
  const raw = randomBytes(rowBytes * side);
  for (let y = 0; y < side; y++) raw[y * rowBytes] = 0; // each row starts with its filter: none
  return rgbPng(side, deflateSync(raw, { level: 0 }));
}

/** A `side` x `side` PNG of one colour: resized or re-encoded losslessly, its pixels keep it. */
export function makeSolidPng(colour: readonly [number, number, number], side = 24): Buffer {
  const rowBytes = 1 + side * 3;
  const raw = Buffer.alloc(rowBytes * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) raw.set(colour, y * rowBytes + 1 + x * 3);
  }
  return rgbPng(side, deflateSync(raw));
}

/**
 * A decompression bomb: a PNG whose header claims `side` x `side` pixels (3 bytes each) while the
 * file holds a few hundred bytes. Only a decoder that trusts the header would allocate for it.
 */
export function makeBombPng(side: number): Buffer {
  return rgbPng(side, deflateSync(Buffer.alloc(64 * 1024), { level: 9 }));
}

/** An 8-bit RGB PNG whose header says `side` x `side`, with `idat` as its image data. */
function rgbPng(side: number, idat: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}
