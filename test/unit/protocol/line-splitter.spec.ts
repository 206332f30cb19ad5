import { LineSplitter, NEAR_MAX_LINE_BYTES } from '../../../src/protocol/near-cache.protocol';

function splitter() {
  const lines: unknown[] = [];
  const errors: string[] = [];
  const sut = new LineSplitter(
    (v) => lines.push(v),
    (why) => errors.push(why),
  );
  return { sut, lines, errors };
}

describe('LineSplitter', () => {
  it('parses lines split anywhere, a multi-byte character across two chunks included', () => {
    const { sut, lines, errors } = splitter();
    const bytes = Buffer.from('{"k":"é✓"}\n\n{"n":2}\n{"x"', 'utf8');
    for (let i = 0; i < bytes.length; i++) sut.push(bytes.subarray(i, i + 1));
    sut.push(Buffer.from(':3}\n'));
    expect(errors).toEqual([]);
    expect(lines).toEqual([{ k: 'é✓' }, { n: 2 }, { x: 3 }]);
  });

  it('refuses a line that is not JSON, once, and then ignores the stream', () => {
    const { sut, lines, errors } = splitter();
    sut.push('{"a":1}\nnot json\n{"b":2}\n');
    sut.push('{"c":3}\n');
    expect(lines).toEqual([{ a: 1 }]);
    expect(errors).toEqual(['a line is not JSON']);
  });

  // A peer that sends a long line one byte per packet must not make the node rescan what it
  // already has at every byte: the old splitter took minutes of CPU (quadratic) here.
  it('reaches "line too long" on a maximal line sent a byte at a time, doing linear work', () => {
    const { sut, errors } = splitter();
    const byte = Buffer.from('a');
    for (let i = 0; i <= NEAR_MAX_LINE_BYTES && errors.length === 0; i++) sut.push(byte);
    expect(errors).toEqual(['line too long']);
  }, 20_000);
});
