import sharp, { type Metadata } from 'sharp';

/** What a source image may be before anything decodes its pixels (decompression bombs). */
export interface SourceLimits {
  maxInputPixels: number;
  maxFrames: number;
}

export interface SourceHeader {
  format: string;
  width: number;
  height: number;
  frames: number;
}

export type HeaderProblem = 'undecodable' | 'too_many_pixels' | 'too_many_frames';

export class SourceRefused extends Error {
  constructor(
    readonly problem: HeaderProblem,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads only the header (sharp's metadata(): no pixel is decoded), then applies the limits. A
 * file whose header does not parse, or that claims more pixels or frames than allowed, is refused
 * here, so neither an upload nor a transform ever allocates for it.
 */
export async function readSourceHeader(body: Buffer, limits: SourceLimits): Promise<SourceHeader> {
  let meta: Metadata;
  try {
    meta = await sharp(body, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (err) {
    throw new SourceRefused('undecodable', `its header does not decode: ${(err as Error).message}`);
  }
  const { format, width, height } = meta;
  if (!format || !width || !height) {
    throw new SourceRefused('undecodable', 'its header names no format or size');
  }
  const frames = meta.pages ?? 1;
  // Animated sources: pageHeight is one frame's height, height may be all frames stacked.
  const pixels = width * (meta.pageHeight ?? height);
  if (pixels > limits.maxInputPixels) {
    throw new SourceRefused(
      'too_many_pixels',
      `${width}x${meta.pageHeight ?? height} is more than ${limits.maxInputPixels} pixels`,
    );
  }
  if (frames > limits.maxFrames) {
    throw new SourceRefused('too_many_frames', `${frames} frames, more than ${limits.maxFrames}`);
  }
  return { format, width, height: meta.pageHeight ?? height, frames };
}
