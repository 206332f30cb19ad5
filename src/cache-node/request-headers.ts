/**
 * Reads the few headers the node needs straight from `req.rawHeaders`: the lazy `req.headers`
 * object would be built on every request just to find two values.
 */
export interface NodeRequestHeaders {
  secret: string | undefined;
  epoch: string | undefined;
  contentType: string | undefined;
  contentLength: string | undefined;
  chunked: boolean;
}

/** Reused for every request: filled and read synchronously, before any await. */
const scratch: NodeRequestHeaders = {
  secret: undefined,
  epoch: undefined,
  contentType: undefined,
  contentLength: undefined,
  chunked: false,
};

export function scanHeaders(raw: readonly string[]): NodeRequestHeaders {
  scratch.secret = undefined;
  scratch.epoch = undefined;
  scratch.contentType = undefined;
  scratch.contentLength = undefined;
  scratch.chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // Dispatch on length first: most headers are rejected without a character comparison.
    switch (name.length) {
      case 16:
        if (scratch.secret === undefined && nameIs(name, 'x-pixpool-secret'))
          scratch.secret = raw[i + 1];
        break;
      case 15:
        if (scratch.epoch === undefined && nameIs(name, 'x-pixpool-epoch'))
          scratch.epoch = raw[i + 1];
        break;
      case 12:
        if (scratch.contentType === undefined && nameIs(name, 'content-type'))
          scratch.contentType = raw[i + 1];
        break;
      case 14:
        if (nameIs(name, 'content-length')) scratch.contentLength = raw[i + 1];
        break;
      case 17:
        if (nameIs(name, 'transfer-encoding')) scratch.chunked = true;
        break;
    }
  }
  return scratch;
}

/** ASCII case-insensitive equality against a lower-case name. */
function nameIs(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Constant-time in the secret's length: every character of the secret is compared whatever the
 * given value is (charCodeAt past the end is NaN, which `^` turns into 0), so timing reveals
 * neither a matching prefix nor the length. No allocation, unlike hashing both sides.
 */
export function secretMatches(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  let diff = given.length ^ secret.length;
  for (let i = 0; i < secret.length; i++) diff |= secret.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}
