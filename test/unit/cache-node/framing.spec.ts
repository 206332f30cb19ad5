import {
  encodeEndFrame,
  encodeFrameHead,
  FrameDecoder,
  FrameKind,
  FramingError,
  STREAM_MAGIC,
  type Frame,
} from '../../../src/cache-node/framing';

const value = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));

function stream(): Buffer {
  return Buffer.concat([
    STREAM_MAGIC,
    encodeFrameHead(FrameKind.Entry, 7, 'clé/ü', 1_700_000_000_000_123, 'image/png', value.length),
    value,
    encodeFrameHead(FrameKind.Entry, 0, 'empty', 0, 'application/octet-stream', 0),
    encodeFrameHead(FrameKind.Tombstone, 15, 'gone', 42, '', 0),
    encodeEndFrame(3),
  ]);
}

function decode(chunks: Buffer[], maxValueBytes = 1 << 20): Frame[] {
  const frames: Frame[] = [];
  const sut = new FrameDecoder((frame) => frames.push(frame), maxValueBytes);
  for (const chunk of chunks) sut.push(chunk);
  sut.finish();
  return frames;
}

describe('transfer framing', () => {
  it('round-trips entries and tombstones however the stream is cut into chunks', () => {
    const bytes = stream();
    for (const size of [1, 3, 17, 1000, 65_536, bytes.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const frames = decode(chunks);
      expect(
        frames.map((f) => [f.kind, f.region, f.key, f.version, f.contentType, f.value?.length]),
      ).toEqual([
        [FrameKind.Entry, 7, 'clé/ü', 1_700_000_000_000_123, 'image/png', 70_000],
        [FrameKind.Entry, 0, 'empty', 0, 'application/octet-stream', 0],
        [FrameKind.Tombstone, 15, 'gone', 42, '', 0],
      ]);
      expect(frames[0].value?.equals(value)).toBe(true);
    }
  });

  it('skips a value above the limit instead of buffering it', () => {
    const frames = decode([stream()], 1000);
    expect(frames[0].value).toBeNull();
    expect(frames[1].value?.length).toBe(0);
  });

  it.each([
    ['cut inside a value', (b: Buffer) => b.subarray(0, 5000)],
    ['cut before the end frame', (b: Buffer) => b.subarray(0, b.length - 17)],
    ['cut inside the end frame', (b: Buffer) => b.subarray(0, b.length - 3)],
  ])('reports a stream %s as truncated', (_name, cut) => {
    const error = captureError(() => decode([cut(stream())]));
    expect(error).toBeInstanceOf(FramingError);
    expect((error as FramingError).code).toBe('truncated');
  });

  it('reports a missing frame through the end frame count', () => {
    const bytes = Buffer.concat([
      STREAM_MAGIC,
      encodeFrameHead(FrameKind.Tombstone, 1, 'k', 1, '', 0),
      encodeEndFrame(2),
    ]);
    expect((captureError(() => decode([bytes])) as FramingError).code).toBe('truncated');
  });

  it.each([
    ['no magic', Buffer.from('HTTP/1.1 200 OK\r\n\r\n')],
    [
      'a bad region',
      Buffer.concat([STREAM_MAGIC, encodeFrameHead(FrameKind.Entry, 16, 'k', 1, 'a/b', 0)]),
    ],
    [
      'an empty key',
      Buffer.concat([STREAM_MAGIC, encodeFrameHead(FrameKind.Entry, 1, '', 1, 'a/b', 0)]),
    ],
    [
      'a fractional version',
      Buffer.concat([STREAM_MAGIC, encodeFrameHead(FrameKind.Entry, 1, 'k', 1.5, 'a/b', 0)]),
    ],
    ['an unknown kind', Buffer.concat([STREAM_MAGIC, Buffer.alloc(17, 9)])],
    ['bytes after the end', Buffer.concat([STREAM_MAGIC, encodeEndFrame(0), Buffer.from('x')])],
  ])('rejects %s as a bad request', (_name, bytes) => {
    const error = captureError(() => decode([bytes]));
    expect(error).toBeInstanceOf(FramingError);
    expect((error as FramingError).code).toBe('bad_request');
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
