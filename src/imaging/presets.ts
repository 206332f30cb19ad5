import { parseImageQuery } from './image-query';
import { isEmpty, type VariantParams } from './variant-params';

/**
 * Named variants from config (imaging.presets): `NAME:query;NAME:query`, each query in the URL's
 * own syntax, e.g. `thumb:w=320&h=320&fit=cover`. Parsed once at start; a bad preset stops the
 * start with a message naming it.
 */
export function parsePresets(
  text: string,
  maxDimension: number,
): ReadonlyMap<string, VariantParams> {
  const presets = new Map<string, VariantParams>();
  for (const item of text.split(';').map((s) => s.trim())) {
    if (item === '') continue;
    const colon = item.indexOf(':');
    const name = colon === -1 ? item : item.slice(0, colon);
    const fail = (why: string) => new Error(`config: imaging.presets: preset "${name}": ${why}`);
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name)) throw fail('name must be a-z, 0-9, - and _');
    if (presets.has(name)) throw fail('defined twice');
    let parsed;
    try {
      parsed = parseImageQuery('', item.slice(colon + 1), { maxDimension });
    } catch (err) {
      throw fail((err as Error).message);
    }
    if (parsed.preset !== undefined || parsed.version !== undefined || parsed.signature) {
      throw fail('may only set w, h, fit, fmt and q');
    }
    if (isEmpty(parsed.params) || (!parsed.params.w && !parsed.params.h)) {
      throw fail('must set w or h');
    }
    presets.set(name, parsed.params);
  }
  return presets;
}
