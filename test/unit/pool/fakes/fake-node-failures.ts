import { NodeFailureService } from '../../../../src/pool/node-failure.service';

export type NodeFailureCalls = Pick<NodeFailureService, 'suspect' | 'removeNow'>;

/** Records suspicions and removals; `removeNow` waits for `removal` when a test sets one. */
export class FakeNodeFailures implements NodeFailureCalls {
  readonly suspected: { id: string; why: string }[] = [];
  readonly removed: { id: string; why: string }[] = [];
  removal: Promise<void> | null = null;

  suspect(id: string, why: string): void {
    this.suspected.push({ id, why });
  }

  async removeNow(id: string, why: string): Promise<void> {
    this.removed.push({ id, why });
    if (this.removal) await this.removal;
  }
}
