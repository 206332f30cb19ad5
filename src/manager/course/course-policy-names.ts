import { NodePolicy } from '../../protocol/cache-node.protocol';

/** The course's names for our policies in answers: its clients compare "LRU" and "RR" exactly. */
const COURSE_NAMES: Record<NodePolicy, string> = { lru: 'LRU', random: 'RR', sieve: 'SIEVE' };

export function coursePolicyName(policy: NodePolicy): string {
  return COURSE_NAMES[policy];
}
