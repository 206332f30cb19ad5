import {
  NODE_MAX_JSON_BYTES,
  NODE_MAX_RELEASES,
  type NodeReleaseItem,
} from '../../protocol/cache-node.protocol';

interface Queued<R> {
  item: NodeReleaseItem;
  near: string | undefined;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/** Room in a POST /v1/releases body for `{"releases":[...],"near":"..."}` around the items. */
const ENVELOPE_BYTES = 1024;

/**
 * The releases to one node (src/frontend/write-fence.ts, step 3). One leaves at once when none
 * is in flight, as it always did; those that queue up while one is in flight leave together in
 * one request when it returns, the way a group commit batches a log's writers. Under a load of
 * uploads a node then answers fewer requests than two per upload (a mark and a release each), and
 * at rest nothing waits. Holding a release back by a round trip is safe: a release only ends a
 * mark before its grant runs out, and until it arrives the key is read from storage, which is
 * linearizable; a release that never arrives ends with the mark's grant.
 */
export class ReleaseQueue<R> {
  private queued: Queued<R>[] = [];
  private sending = false;

  constructor(
    private readonly sendOne: (item: NodeReleaseItem, near: string | undefined) => Promise<R>,
    private readonly sendMany: (items: NodeReleaseItem[], near: string | undefined) => Promise<R[]>,
  ) {}

  push(item: NodeReleaseItem, near: string | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queued.push({ item, near, resolve, reject });
      if (!this.sending) void this.sendNext();
    });
  }

  /** Sends what is queued, one request at a time, until the queue is empty. */
  private async sendNext(): Promise<void> {
    this.sending = true;
    while (this.queued.length > 0) {
      const batch = this.takeBatch();
      try {
        if (batch.length === 1) {
          batch[0].resolve(await this.sendOne(batch[0].item, batch[0].near));
          continue;
        }
        const results = await this.sendMany(
          batch.map((q) => q.item),
          batch[0].near,
        );
        if (results.length !== batch.length)
          throw new Error(`${results.length} results for ${batch.length} releases`);
        batch.forEach((q, i) => q.resolve(results[i]));
      } catch (err) {
        for (const q of batch) q.reject(err);
      }
    }
    this.sending = false;
  }

  /** The oldest releases that share the first one's uploader and fit one body. */
  private takeBatch(): Queued<R>[] {
    const near = this.queued[0].near;
    const batch: Queued<R>[] = [];
    const rest: Queued<R>[] = [];
    let bytes = ENVELOPE_BYTES;
    for (const q of this.queued) {
      // Sized here, not when queued: a release sent alone (the usual case at rest) needs no size.
      const size = this.queued.length === 1 ? 0 : Buffer.byteLength(JSON.stringify(q.item)) + 1;
      const fits =
        q.near === near && batch.length < NODE_MAX_RELEASES && bytes + size <= NODE_MAX_JSON_BYTES;
      if (fits) {
        batch.push(q);
        bytes += size;
      } else rest.push(q);
    }
    this.queued = rest;
    return batch;
  }
}
