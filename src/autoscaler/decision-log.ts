import { Decision } from './autoscaler-decision';

/** The last decisions for the dashboard, in a fixed-size ring so a long-running app holds a bounded history. */
export class DecisionLog {
  private readonly entries: Decision[] = [];
  private next = 0;

  constructor(private readonly capacity = 100) {
    if (!(capacity >= 1))
      throw new RangeError(`decision log capacity must be at least 1, got ${capacity}`);
  }

  /** Keeps the decision itself, so an outcome filled in later shows up. */
  add(decision: Decision): void {
    if (this.entries.length < this.capacity) this.entries.push(decision);
    else this.entries[this.next] = decision;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first, as copies. */
  recent(): Decision[] {
    const oldestFirst =
      this.entries.length < this.capacity
        ? this.entries
        : [...this.entries.slice(this.next), ...this.entries.slice(0, this.next)];
    return oldestFirst.map((decision) => ({ ...decision })).reverse();
  }
}
