import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { systemClock } from '../clock.port';
import { nodeHealthProbe } from './node-health-probe';
import { NodeProvider } from './node-provider.port';
import { Ec2NodeProvider } from './ec2-node.provider';
import { createEc2Client } from './ec2-node-provider.options';
import { TypeOrmInstanceClaims } from './ec2-instance-claims';
import { LocalNodeProvider } from './local-node.provider';
import { StaticNodeProvider } from './static-node.provider';

/** Picks the node provider named by pool.provider. */
export function createNodeProvider(config: AppConfig, dataSource: DataSource): NodeProvider {
  const { pool, cache, security } = config;
  const probe = nodeHealthProbe(security.nodeSecret || undefined, 2000);
  switch (pool.provider) {
    case 'local':
      return new LocalNodeProvider({
        basePort: pool.basePort,
        maxNodes: pool.max,
        capacityMb: cache.capacityMb,
        policy: cache.policy,
        secret: security.nodeSecret,
        nearLeaseMs: config.nearCache.leaseMs,
        limits: { ...config.limits, maxConnections: config.limits.nodeMaxConnections },
      });
    case 'static':
      return new StaticNodeProvider(splitList(pool.staticNodes), probe);
    case 'ec2': {
      const [key, ...value] = pool.ec2.tag.split('=');
      const options = {
        region: pool.ec2.region,
        tag: pool.ec2.tag ? { key, value: value.join('=') } : undefined,
        instanceIds: pool.ec2.instanceIds ? splitList(pool.ec2.instanceIds) : undefined,
        port: pool.ec2.port,
        vpcId: pool.ec2.vpcId || undefined,
        launchTemplate: pool.ec2.launchTemplate
          ? { name: pool.ec2.launchTemplate, version: pool.ec2.launchTemplateVersion || undefined }
          : undefined,
        failedRetryMs: pool.ec2.failedRetryMs,
        startTimeoutMs: pool.ec2.startTimeoutMs,
        healthTimeoutMs: pool.ec2.healthTimeoutMs,
        pollIntervalMs: pool.ec2.pollIntervalMs,
        strayGraceMs: pool.ec2.strayGraceMs,
        claimTtlMs: pool.ec2.claimTtlMs,
        throttleDeadlineMs: pool.ec2.throttleDeadlineMs,
      };
      const claims = new TypeOrmInstanceClaims(dataSource);
      return new Ec2NodeProvider(options, createEc2Client(options), probe, systemClock, claims);
    }
  }
}

function splitList(list: string): string[] {
  return list
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
