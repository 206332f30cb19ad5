import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Instance, InstanceStateName } from '@aws-sdk/client-ec2';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../../../src/config/config-loader';
import { openDataSource } from '../../../../src/database/data-source.factory';
import { Clock } from '../../../../src/pool/clock.port';

/** Simulated time: sleep() advances now() at once, so a 5-minute wait takes no real time. */
export class FakeClock implements Clock {
  private ms = Date.parse('2024-05-01T12:00:00Z');
  readonly sleeps: number[] = [];
  readonly start = this.ms;
  now(): Date {
    return new Date(this.ms);
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.ms += ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  elapsed(): number {
    return this.ms - this.start;
  }
}

export const TAG = { key: 'pixpool-role', value: 'cache-node' };
export const TAG_FILTER = { Name: 'tag:pixpool-role', Values: ['cache-node'] };
export const TIMING = { pollIntervalMs: 1_000, startTimeoutMs: 10_000, healthTimeoutMs: 5_000 };
/** What start() describes to choose from: everything it could take. */
export const FREE_FILTERS = [
  TAG_FILTER,
  { Name: 'instance-state-name', Values: ['running', 'stopping', 'stopped'] },
];

export function instance(
  id: string,
  state: InstanceStateName,
  ip?: string,
  reason?: string,
): Instance {
  return {
    InstanceId: id,
    State: { Name: state },
    PrivateIpAddress: ip,
    ...(reason ? { StateReason: { Message: reason } } : {}),
  };
}
export const described = (...instances: Instance[]) => ({
  Reservations: [{ Instances: instances }],
});
export const awsError = (name: string, message: string) =>
  Object.assign(new Error(message), { name });

/** A migrated SQLite database in a temp folder: the claims table is real, not a fake. */
export async function openClaimsDatabase(): Promise<{
  dataSource: DataSource;
  close(): Promise<void>;
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-ec2-'));
  const config = loadConfig({ env: { PIXPOOL_DATABASE_FILE: path.join(dir, 'claims.sqlite') } });
  const dataSource = await openDataSource({ ...config.database, migrationsRun: true });
  return {
    dataSource,
    close: async () => {
      await dataSource.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
