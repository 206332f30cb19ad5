import { Injectable, Logger } from '@nestjs/common';
import { NodeStats } from '../protocol/cache-node.protocol';
import { RoutedNode } from '../pool/routing/pool-router.service';
import { StoredCacheSettings } from './settings/stored-cache-settings';

const MIB = 1024 * 1024;

/**
 * Brings back in line a node whose cache configuration differs from the stored one: one that missed
 * a push (slow, restarted) or one that joined while the setting changed. It compares what the node
 * reported at this poll with the settings read AFTER that report, so it never pushes back a value
 * an operator replaced meanwhile (their push reached the node after the store had the new value).
 */
@Injectable()
export class CacheSettingsReconciler {
  private readonly logger = new Logger(CacheSettingsReconciler.name);

  constructor(private readonly settings: StoredCacheSettings) {}

  /** Returns the ids of the nodes it re-configured. */
  async reconcile(polled: { node: RoutedNode; stats: NodeStats }[]): Promise<string[]> {
    if (polled.length === 0) return [];
    const wanted = await this.settings.current();
    const capacityBytes = wanted.capacityMb * MIB;
    const drifted = polled.filter(
      ({ stats }) => stats.capacityBytes !== capacityBytes || stats.policy !== wanted.policy,
    );
    const fixed: string[] = [];
    await Promise.all(
      drifted.map(async ({ node }) => {
        try {
          await node.client.setConfig({ capacityBytes, policy: wanted.policy });
          fixed.push(node.id);
          this.logger.log(`${node.id} re-configured to ${wanted.capacityMb} MB ${wanted.policy}`);
        } catch (err) {
          this.logger.warn(`${node.id} could not be re-configured: ${(err as Error).message}`);
        }
      }),
    );
    return fixed;
  }
}
