import { ResizeService } from '../../../../src/pool/resize.service';

export type ResizerCalls = Pick<ResizeService, 'removeFailed'>;

/** Records removals; `failRemovals` makes them reject as a repair that could not finish does. */
export class FakeResizer implements ResizerCalls {
  readonly removed: { id: string; why: string }[] = [];
  failRemovals: Error | null = null;

  async removeFailed(id: string, why: string): Promise<void> {
    this.removed.push({ id, why });
    if (this.failRemovals) throw this.failRemovals;
  }
}
