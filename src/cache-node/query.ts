/**
 * Query parameters read in place from `req.url` (no URL or URLSearchParams object per request).
 * `q` is the index of '?' in the url, or -1.
 */
export const ABSENT = -1;
export const MALFORMED = -2;

/** Index of the value of `name` (given with its '='), or -1. */
function valueStart(url: string, q: number, nameEq: string): number {
  if (q < 0) return -1;
  let i = q + 1;
  while (i < url.length) {
    if (url.startsWith(nameEq, i)) return i + nameEq.length;
    const amp = url.indexOf('&', i);
    if (amp < 0) return -1;
    i = amp + 1;
  }
  return -1;
}

/** A non-negative safe integer in decimal, ABSENT, or MALFORMED. */
export function intParam(url: string, q: number, nameEq: string): number {
  const start = valueStart(url, q, nameEq);
  return start < 0 ? ABSENT : parseNonNegativeInt(url, start);
}

export function parseNonNegativeInt(text: string, start = 0): number {
  let value = 0;
  let i = start;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 38 /* & */) break;
    if (c < 48 || c > 57 || i - start >= 16) return MALFORMED;
    value = value * 10 + (c - 48);
  }
  return i === start || !Number.isSafeInteger(value) ? MALFORMED : value;
}

/** The raw (undecoded) value of `name`, or undefined. */
export function stringParam(url: string, q: number, nameEq: string): string | undefined {
  const start = valueStart(url, q, nameEq);
  if (start < 0) return undefined;
  const amp = url.indexOf('&', start);
  return url.slice(start, amp < 0 ? url.length : amp);
}
