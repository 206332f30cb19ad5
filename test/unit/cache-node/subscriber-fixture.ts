import { performance } from 'node:perf_hooks';
import {
  type NearMark,
  type NearRelease,
  NodeSubscription,
  type SubscriptionListener,
} from '../../../src/near-cache/node-subscription';

/** The id subscriber() subscribes with: what an uploader names with near= to be left out. */
export const SUBSCRIBER_ID = 'c'.repeat(24);

/** A near-cache subscriber that records what the node pushes to it. */
export function subscriber(url: string) {
  const events: string[] = [];
  const listener: SubscriptionListener = {
    granted: () => void events.push('granted'),
    invalidate: (_s, key, _r, version) => void events.push(`inv ${key} v${version}`),
    drop: () => void events.push('drop'),
    pending: (_s, mark: NearMark) => void events.push(`pend ${mark.key ?? 'all'} ${mark.id}`),
    released: (_s, mark: NearRelease) =>
      void events.push(`rel ${mark.key ?? 'all'} ${mark.id} v${mark.version ?? '-'}`),
    lost: () => void events.push('lost'),
  };
  const subscription = new NodeSubscription(
    {
      nodeId: 'n',
      url,
      secret: undefined,
      id: SUBSCRIBER_ID,
      connectTimeoutMs: 3000,
      now: () => performance.now(),
    },
    listener,
  );
  return { events, subscription };
}
