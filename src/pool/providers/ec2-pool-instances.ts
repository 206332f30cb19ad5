import {
  DescribeInstancesCommand,
  DescribeInstancesCommandInput,
  EC2Client,
  Filter,
  Instance,
  InstanceStateName,
} from '@aws-sdk/client-ec2';
import { ec2Call, ThrottleRetry } from './ec2-aws-call';
import { ResolvedEc2Options } from './ec2-node-provider.options';

/** What the provider needs to know of one instance. */
export interface PoolInstance {
  id: string;
  state: InstanceStateName | 'unknown';
  privateIp?: string;
  /** Why EC2 moved it to its state (e.g. "Server.InsufficientInstanceCapacity"), when it says. */
  stateReason?: string;
}

/** DescribeInstances, restricted to the pool (tag and/or id list, and VPC), every page, sorted by id. */
export class Ec2PoolInstances {
  constructor(
    private readonly ec2: EC2Client,
    private readonly options: ResolvedEc2Options,
    private readonly retry?: ThrottleRetry,
  ) {}

  inStates(states: InstanceStateName[]): Promise<PoolInstance[]> {
    const filters: Filter[] = [];
    if (this.options.tag) {
      filters.push({ Name: `tag:${this.options.tag.key}`, Values: [this.options.tag.value] });
    }
    if (this.options.vpcId) filters.push({ Name: 'vpc-id', Values: [this.options.vpcId] });
    filters.push({ Name: 'instance-state-name', Values: states });
    const input: DescribeInstancesCommandInput = { Filters: filters };
    if (this.options.instanceIds) input.InstanceIds = this.options.instanceIds;
    return this.describe(input, `DescribeInstances of the pool (${states.join(', ')})`);
  }

  byIds(ids: string[]): Promise<PoolInstance[]> {
    // An empty InstanceIds list would describe every instance of the account.
    if (ids.length === 0) return Promise.resolve([]);
    return this.describe({ InstanceIds: ids }, `DescribeInstances for ${ids.join(', ')}`);
  }

  private async describe(
    input: DescribeInstancesCommandInput,
    what: string,
  ): Promise<PoolInstance[]> {
    const found: PoolInstance[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ec2Call(
        what,
        () =>
          this.ec2.send(
            new DescribeInstancesCommand(nextToken ? { ...input, NextToken: nextToken } : input),
          ),
        this.retry,
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (instance.InstanceId) found.push(toPoolInstance(instance));
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

function toPoolInstance(instance: Instance): PoolInstance {
  return {
    id: instance.InstanceId ?? '',
    state: instance.State?.Name ?? 'unknown',
    privateIp: instance.PrivateIpAddress,
    stateReason: instance.StateReason?.Message,
  };
}
