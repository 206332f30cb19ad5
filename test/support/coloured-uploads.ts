import sharp from 'sharp';
import { makeSolidPng } from './images';

/**
 * Uploads that a variant can be traced back to: each one a solid colour of its own (a counter,
 * 2^24 of them), so the first pixel of any lossless variant says which upload it was rendered
 * from. A consistency checker can then judge a variant read as a read of that upload.
 */
export class ColouredUploads {
  private next = 1;
  private readonly byColour = new Map<number, Buffer>();

  make(): Buffer {
    const n = this.next++;
    if (n >= 1 << 24) throw new Error('out of colours');
    const png = makeSolidPng([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
    this.byColour.set(n, png);
    return png;
  }

  /** The upload a variant was rendered from, by its first pixel; undefined for none of ours. */
  async sourceOf(variant: Buffer): Promise<Buffer | undefined> {
    const data = await sharp(variant).removeAlpha().raw().toBuffer();
    return this.byColour.get((data[0] << 16) | (data[1] << 8) | data[2]);
  }
}
