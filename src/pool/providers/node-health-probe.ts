import { CacheNodeClient } from '../client/cache-node.client';
import { HealthProbe } from './node-provider.port';

/** The probe providers use: a node is healthy when its /health answers ok within `timeoutMs`. */
export function nodeHealthProbe(secret: string | undefined, timeoutMs: number): HealthProbe {
  return async (url) => {
    const client = new CacheNodeClient({ url, secret, timeoutMs });
    try {
      return (await client.health()).status === 'ok';
    } catch {
      return false;
    } finally {
      client.close();
    }
  };
}
