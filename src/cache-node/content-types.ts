/**
 * Content types repeat (a handful of image types), but each request brings its own string: keep
 * one copy per distinct type so entries share it. Bounded, so odd types cannot grow it forever;
 * the store charges every entry its type's length anyway, so accounting never relies on sharing.
 */
const MAX_INTERNED = 256;
const interned = new Map<string, string>();

export function internContentType(contentType: string): string {
  const known = interned.get(contentType);
  if (known !== undefined) return known;
  if (interned.size < MAX_INTERNED) interned.set(contentType, contentType);
  return contentType;
}

/** Visible ASCII and spaces only: it is echoed in a response header, and framed in transfers. */
export function isValidContentType(contentType: string, maxBytes: number): boolean {
  if (contentType.length === 0 || contentType.length > maxBytes) return false;
  for (let i = 0; i < contentType.length; i++) {
    const c = contentType.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}
