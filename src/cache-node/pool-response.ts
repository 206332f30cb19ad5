import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Entry } from './entry';
import type { EntryTable } from './entry-table';

/**
 * The node's response class (createServer({ ServerResponse })): remembers the entry a hit is
 * writing and ends the read once the response has been handed to the kernel ('finish'), so the
 * store can recycle the value's block safely. Done by overriding emit rather than adding a
 * listener, which would allocate on every hit. A response that never finishes (client gone)
 * never ends its read: the block is then left to the GC instead of being recycled.
 */
export class PoolResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  private heldBy: EntryTable | null = null;
  private held: Entry | null = null;

  hold(table: EntryTable, entry: Entry): void {
    this.heldBy = table;
    this.held = entry;
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'finish' && this.held && this.heldBy) {
      this.heldBy.endRead(this.held);
      this.held = null;
      this.heldBy = null;
    }
    return super.emit(event, ...args);
  }
}
