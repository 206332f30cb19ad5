/*
 * Deleting every image (POST /api/delete_all, DELETE /api/clear/data, DELETE /api/manager/data)
 * while uploads run beside it.
 *
 * Invariant: an object is deleted only if no committed row names it, or will: a clear deletes
 * the objects of exactly the rows its table delete removed, never "everything in storage".
 *
 * Steps:
 * 0. Every key goes pending at every node and near cache, as an upload's key does
 *    (src/frontend/write-fence.ts): no copy is served or admitted until step 2's release, so no
 *    read can return a deleted image after any read saw it gone (linearizable, like uploads).
 * 1. One transaction deletes the rows it locked and returns their object names (ImageTable
 *    .deleteAll). An upload that commits before it is taken with it; one that commits after it
 *    keeps its row, and its object is one the delete never saw (object names are fresh per upload).
 *    The transaction also takes a version V from the database's counter
 *    (src/database/version-counter.ts): every row it deleted is below V, every later upload above.
 * 2. Every cache copy goes again (nodes and near caches), every node refuses writes below V from
 *    then on, and the marks are released: a region transfer whose frames are still in flight
 *    cannot bring a deleted image back (src/cache-node/store.ts, rule 4).
 * 3. The returned objects are deleted. No row names them any more and no row ever will again:
 *    names are never reused.
 *
 * A crash before 2 leaves the marks to run out (pool.pendingMs). A crash or an outage after 1 leaves objects no row names: the orphan sweeper deletes them after
 * its grace (src/coordination/orphan-sweeper.service.ts), as it does those of a crashed upload.
 * A crash before 1 commits leaves everything as it was. Objects written by an upload in flight
 * (not yet committed) are likewise the sweeper's if that upload never commits, and its own if it
 * does: the clear does not touch them either way.
 *
 * Deleting every object in storage instead (the old behaviour) loses acknowledged uploads that
 * commit between steps 1 and 3: their row survives, their object does not.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { BLOB_STORE, BlobStore } from '../storage/blob-store';
import { IMAGE_TABLE, ImageTable } from '../database/image-table';
import { DependencyUnavailableError } from '../common/dependency-unavailable.error';
import { WriteFence } from './write-fence';
import { testMutant } from '../protocol/test-mutants';

@Injectable()
export class ClearDataService {
  private readonly logger = new Logger(ClearDataService.name);

  constructor(
    @Inject(IMAGE_TABLE) private readonly table: ImageTable,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly fence: WriteFence,
  ) {}

  async clearData(): Promise<void> {
    const fence = await this.fence.open(undefined);
    let deleted: Awaited<ReturnType<ImageTable['deleteAll']>>;
    try {
      deleted = await this.table.deleteAll();
    } catch (err) {
      // An outage leaves the outcome unknown (the marks run out); anything else changed nothing.
      if (!(err instanceof DependencyUnavailableError)) this.fence.abandon(fence);
      throw err;
    }
    const { objectNames, version } = deleted;
    await this.fence.close(fence, version, () => undefined);
    try {
      await this.blobs.deleteMany(await this.objectsToDelete(objectNames));
      this.logger.log(`cleared data: ${objectNames.length} keys and their objects`);
    } catch (err) {
      // The rows are gone, so the clear has happened; what is left is garbage, not data.
      this.logger.warn(
        `cleared data: ${objectNames.length} keys; their objects are left to the orphan sweeper: ` +
          (err as Error).message,
      );
    }
  }

  /** The objects a clear deletes: those of the rows its table delete removed, and no others. */
  private async objectsToDelete(removedRowsObjects: string[]): Promise<string[]> {
    if (!testMutant('delete-every-object')) return removedRowsObjects;
    // The old defect, for the nemesis to catch: every object, also one an upload committed after
    // the table delete (whose row survives, pointing at nothing).
    const every: string[] = [];
    for await (const page of this.blobs.list()) every.push(...page.map((object) => object.name));
    return every;
  }
}
