import {
  NODE_MAX_CONTENT_TYPE_BYTES,
  NODE_MAX_KEY_BYTES,
  NODE_REGION_COUNT,
} from '../protocol/cache-node.protocol';

/**
 * Transfer stream between nodes (POST /v1/import body): a 4-byte magic, then frames
 *   u8 kind | u8 region | u16 keyBytes | u32 valueBytes | f64 version | u8 contentTypeBytes
 *   | key (UTF-8) | content type (ASCII) | value
 * all big-endian, and an `end` frame whose valueBytes field counts the frames before it, so a
 * stream cut short (or a lost frame) is told apart from a complete one. A `pending` frame carries
 * an upload's pending mark (pending-keys.ts): the mark id in the content-type field, the ms it
 * has left in the version field, no value.
 */
export const STREAM_MAGIC = Buffer.from('PXP1', 'latin1');
export const FRAME_HEADER_BYTES = 17;

export const FrameKind = { Entry: 1, Tombstone: 2, End: 3, Pending: 4 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface Frame {
  kind: typeof FrameKind.Entry | typeof FrameKind.Tombstone | typeof FrameKind.Pending;
  region: number;
  key: string;
  version: number;
  contentType: string;
  /** null when the value was larger than the decoder's limit and was skipped. */
  value: Buffer | null;
}

export class FramingError extends Error {
  override readonly name = 'FramingError';
  constructor(
    message: string,
    /** truncated: frames are missing at the end; bad_request: the bytes are not a valid stream. */
    readonly code: 'truncated' | 'bad_request' = 'bad_request',
  ) {
    super(message);
  }
}

/** Header, key and content type in one small buffer; the value is written after it uncopied. */
export function encodeFrameHead(
  kind: FrameKind,
  region: number,
  key: string,
  version: number,
  contentType: string,
  valueBytes: number,
): Buffer {
  const keyBytes = Buffer.byteLength(key);
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + keyBytes + contentType.length);
  head.writeUInt8(kind, 0);
  head.writeUInt8(region, 1);
  head.writeUInt16BE(keyBytes, 2);
  head.writeUInt32BE(valueBytes, 4);
  head.writeDoubleBE(version, 8);
  head.writeUInt8(contentType.length, 16);
  head.write(key, FRAME_HEADER_BYTES, 'utf8');
  head.write(contentType, FRAME_HEADER_BYTES + keyBytes, 'latin1');
  return head;
}

export function encodeEndFrame(frameCount: number): Buffer {
  return encodeFrameHead(FrameKind.End, 0, '', 0, '', frameCount);
}

interface PendingFrame {
  kind: FrameKind;
  region: number;
  version: number;
  keyBytes: number;
  contentTypeBytes: number;
  meta: Buffer;
  metaFilled: number;
  value: Buffer | null;
  valueBytes: number;
  valueFilled: number;
}

/** Incremental decoder: frames may be split across chunks anywhere, values are copied once. */
export class FrameDecoder {
  private readonly header = Buffer.alloc(Math.max(FRAME_HEADER_BYTES, STREAM_MAGIC.length));
  private headerFilled = 0;
  private magicSeen = false;
  private pending: PendingFrame | null = null;
  private frames = 0;
  private ended = false;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    /** Values above this are skipped (frame.value = null) instead of buffered. */
    private readonly maxValueBytes: number,
    private readonly allocate: (length: number) => Buffer = (length) =>
      Buffer.allocUnsafeSlow(length),
  ) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.ended) throw new FramingError('data after the end frame');
      if (this.pending) offset = this.fillPending(chunk, offset);
      else offset = this.fillHeader(chunk, offset);
    }
  }

  /** The body ended: it must have ended exactly after a complete end frame. */
  finish(): void {
    if (!this.ended) throw new FramingError('stream ended before its end frame', 'truncated');
  }

  private fillHeader(chunk: Buffer, offset: number): number {
    const want = this.magicSeen ? FRAME_HEADER_BYTES : STREAM_MAGIC.length;
    const take = Math.min(want - this.headerFilled, chunk.length - offset);
    chunk.copy(this.header, this.headerFilled, offset, offset + take);
    this.headerFilled += take;
    if (this.headerFilled === want) {
      this.headerFilled = 0;
      if (this.magicSeen) this.startFrame();
      else if (this.header.compare(STREAM_MAGIC, 0, 4, 0, 4) !== 0) {
        throw new FramingError('not a pixpool transfer stream');
      } else this.magicSeen = true;
    }
    return offset + take;
  }

  private startFrame(): void {
    const h = this.header;
    const kind = h.readUInt8(0) as FrameKind;
    const region = h.readUInt8(1);
    const keyBytes = h.readUInt16BE(2);
    const valueBytes = h.readUInt32BE(4);
    const version = h.readDoubleBE(8);
    const contentTypeBytes = h.readUInt8(16);
    if (kind === FrameKind.End) {
      if (valueBytes !== this.frames) {
        throw new FramingError(
          `end frame counts ${valueBytes} frames, got ${this.frames}`,
          'truncated',
        );
      }
      this.ended = true;
      return;
    }
    if (kind !== FrameKind.Entry && kind !== FrameKind.Tombstone && kind !== FrameKind.Pending) {
      throw new FramingError(`unknown frame kind ${kind}`);
    }
    if (region >= NODE_REGION_COUNT) throw new FramingError(`bad region ${region}`);
    if (keyBytes === 0 || keyBytes > NODE_MAX_KEY_BYTES) throw new FramingError('bad key length');
    if (!Number.isSafeInteger(version) || version < 0) throw new FramingError('bad version');
    if (contentTypeBytes > NODE_MAX_CONTENT_TYPE_BYTES) throw new FramingError('bad content type');
    if (kind === FrameKind.Tombstone && valueBytes + contentTypeBytes !== 0) {
      throw new FramingError('tombstone with a value');
    }
    if (kind === FrameKind.Pending && (valueBytes !== 0 || contentTypeBytes === 0)) {
      throw new FramingError('pending mark with a value or without an id');
    }
    this.pending = {
      kind,
      region,
      version,
      keyBytes,
      contentTypeBytes,
      meta: Buffer.allocUnsafe(keyBytes + contentTypeBytes),
      metaFilled: 0,
      value: valueBytes <= this.maxValueBytes ? this.allocate(valueBytes) : null,
      valueBytes,
      valueFilled: 0,
    };
  }

  private fillPending(chunk: Buffer, offset: number): number {
    const p = this.pending as PendingFrame;
    if (p.metaFilled < p.meta.length) {
      const take = Math.min(p.meta.length - p.metaFilled, chunk.length - offset);
      chunk.copy(p.meta, p.metaFilled, offset, offset + take);
      p.metaFilled += take;
      offset += take;
    }
    if (p.metaFilled === p.meta.length && p.valueFilled < p.valueBytes) {
      const take = Math.min(p.valueBytes - p.valueFilled, chunk.length - offset);
      if (p.value) chunk.copy(p.value, p.valueFilled, offset, offset + take);
      p.valueFilled += take;
      offset += take;
    }
    if (p.metaFilled === p.meta.length && p.valueFilled === p.valueBytes) this.completeFrame(p);
    return offset;
  }

  private completeFrame(p: PendingFrame): void {
    this.pending = null;
    this.frames++;
    this.onFrame({
      kind: p.kind as Frame['kind'],
      region: p.region,
      key: p.meta.toString('utf8', 0, p.keyBytes),
      version: p.version,
      contentType: p.meta.toString('latin1', p.keyBytes),
      value: p.value,
    });
  }
}
