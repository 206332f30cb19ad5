import { TransformFnParams } from 'class-transformer';

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A number from a query string or JSON, strictly: "12", "0.5", "1e1". Anything else ("12abc", "",
 * "0x10", a repeated parameter) becomes NaN so the validators refuse it, where Number() would have
 * read "" as 0 and parseFloat "12abc" as 12. An empty value counts as not sent, since course
 * clients build their URLs with every parameter.
 */
export function toStrictNumber({ value }: TransformFnParams): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const text = value.trim();
  if (text === '') return undefined;
  return DECIMAL.test(text) ? Number(text) : Number.NaN;
}

/** Words compared case-insensitively ("Manual", "MISS"); empty counts as not sent. */
export function toLowerWord({ value }: TransformFnParams): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim().toLowerCase();
  return text === '' ? undefined : text;
}

/** The course's policy names (LRU, RR) and ours (lru, random, sieve), any case → ours. */
export function toNodePolicy(params: TransformFnParams): unknown {
  const word = toLowerWord(params);
  return word === 'rr' ? 'random' : word;
}
