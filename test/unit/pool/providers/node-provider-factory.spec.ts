import { DataSource } from 'typeorm';
import { loadConfig } from '../../../../src/config/config-loader';
import { createNodeProvider } from '../../../../src/pool/providers/node-provider.factory';
import { Ec2NodeProvider } from '../../../../src/pool/providers/ec2-node.provider';

/** The EC2 provider gets every pool.ec2 setting from config (no EC2 call is made here). */
describe('createNodeProvider (ec2)', () => {
  const ec2Config = (env: Record<string, string>) =>
    loadConfig({
      env: {
        PIXPOOL_POOL_PROVIDER: 'ec2',
        PIXPOOL_SECURITY_NODE_SECRET: 'factory-node-secret-padded-to-32-characters',
        ...env,
      },
    });
  // Constructing the provider only keeps the data source for claims; it is never queried here.
  const unusedDataSource = {} as DataSource;

  it('passes the timings of pool.ec2 to the provider', () => {
    const provider = createNodeProvider(
      ec2Config({
        PIXPOOL_POOL_EC2_POLL_INTERVAL_MS: '750',
        PIXPOOL_POOL_EC2_START_TIMEOUT_MS: '90000',
        PIXPOOL_POOL_EC2_HEALTH_TIMEOUT_MS: '45000',
        PIXPOOL_POOL_EC2_CLAIM_TTL_MS: '200000',
        PIXPOOL_POOL_EC2_STRAY_GRACE_MS: '120000',
        PIXPOOL_POOL_EC2_THROTTLE_DEADLINE_MS: '30000',
        PIXPOOL_POOL_EC2_PORT: '5101',
      }),
      unusedDataSource,
    );
    expect(provider).toBeInstanceOf(Ec2NodeProvider);
    expect((provider as Ec2NodeProvider).options).toMatchObject({
      pollIntervalMs: 750,
      startTimeoutMs: 90_000,
      healthTimeoutMs: 45_000,
      claimTtlMs: 200_000,
      strayGraceMs: 120_000,
      throttleDeadlineMs: 30_000,
      port: 5101,
      tag: { key: 'pixpool-role', value: 'cache-node' },
    });
  });

  it('refuses a claim that could run out while a start is still waiting for /health', () => {
    expect(() =>
      createNodeProvider(
        ec2Config({
          PIXPOOL_POOL_EC2_START_TIMEOUT_MS: '300000',
          PIXPOOL_POOL_EC2_HEALTH_TIMEOUT_MS: '700000',
        }),
        unusedDataSource,
      ),
    ).toThrow('claimTtlMs (900000) must exceed startTimeoutMs + healthTimeoutMs (1000000)');
  });
});
