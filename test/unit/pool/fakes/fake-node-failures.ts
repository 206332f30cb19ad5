import { NodeFailureService } from '../../../../src/pool/membership/node-failure.service';

export type NodeFailureCalls = Pick<
  NodeFailureService,
  'suspect' | 'quarantineNow' | 'everyInstanceRoutesBy' | 'waitOutLeases'
>;

/** Records suspicions and quarantines; `quarantineNow` waits for `quarantining` when a test sets one. */
export class FakeNodeFailures implements NodeFailureCalls {
  readonly suspected: { id: string; why: string }[] = [];
  readonly quarantined: { id: string; why: string }[] = [];
  quarantining: Promise<void> | null = null;
  /** How often a caller waited until every instance routes by this one's assignment. */
  waitsForEveryInstance = 0;
  /** How often a caller waited out every lease the nodes grant. */
  leaseWaits = 0;

  suspect(id: string, why: string): void {
    this.suspected.push({ id, why });
  }

  async quarantineNow(id: string, why: string): Promise<void> {
    this.quarantined.push({ id, why });
    if (this.quarantining) await this.quarantining;
  }

  async everyInstanceRoutesBy(): Promise<void> {
    this.waitsForEveryInstance++;
    await Promise.resolve();
  }

  async waitOutLeases(): Promise<void> {
    this.leaseWaits++;
    await Promise.resolve();
  }
}
