import { originalKeyOf, VARIANT_SEPARATOR } from './variant-key';

/**
 * Each original's variants kept together (src/protocol/variant-key.ts names them), so that
 * invalidating an original reaches every variant of it in the same step, without a scan. Holds
 * variant keys only; an original with no variant costs nothing.
 */
export class VariantGroups {
  private readonly groups = new Map<string, Set<string>>();

  add(key: string): void {
    if (!key.includes(VARIANT_SEPARATOR)) return;
    const original = originalKeyOf(key);
    let group = this.groups.get(original);
    if (!group) this.groups.set(original, (group = new Set()));
    group.add(key);
  }

  remove(key: string): void {
    if (!key.includes(VARIANT_SEPARATOR)) return;
    const original = originalKeyOf(key);
    const group = this.groups.get(original);
    if (group?.delete(key) && group.size === 0) this.groups.delete(original);
  }

  /** A copy: callers remove members while they walk it. */
  variantsOf(original: string): string[] {
    const group = this.groups.get(original);
    return group ? [...group] : [];
  }

  clear(): void {
    this.groups.clear();
  }
}
