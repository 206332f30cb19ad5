import { NodeEndpoint, NodeProvider } from '../../../../src/pool/providers/node-provider.port';
import { endpoint } from './pool-state.fixtures';

/**
 * Hands out nodes n<next>, n<next+1>, ... and records what it was asked. `failNextStart` makes the
 * next start() reject as a provider does when a node does not come up; `holdNextStart` keeps it
 * pending until released; `beforeStart` runs inside start() (to let "another instance" act).
 */
export class FakeNodeProvider implements NodeProvider {
  readonly kind = 'local' as const;
  readonly running = new Set<string>();
  readonly stopped: string[][] = [];
  readonly adopted: string[][] = [];
  failNextStart: Error | null = null;
  beforeStart: (() => void) | null = null;
  private hold: Promise<void> | null = null;

  constructor(
    private next: number,
    private readonly journal: string[] = [],
  ) {}

  holdNextStart(): () => void {
    let release = (): void => undefined;
    this.hold = new Promise((resolve) => (release = resolve));
    return () => release();
  }

  async list(): Promise<NodeEndpoint[]> {
    return [...this.running].map(endpoint);
  }

  async start(count: number): Promise<NodeEndpoint[]> {
    this.journal.push(`start ${count}`);
    this.beforeStart?.();
    if (this.hold) {
      const hold = this.hold;
      this.hold = null;
      await hold;
    }
    if (this.failNextStart) {
      const err = this.failNextStart;
      this.failNextStart = null;
      throw err;
    }
    const nodes = Array.from({ length: count }, () => endpoint(`n${this.next++}`));
    for (const node of nodes) this.running.add(node.id);
    return nodes;
  }

  async stop(ids: string[]): Promise<void> {
    this.journal.push(`stop ${ids.join(',')}`);
    this.stopped.push(ids);
    for (const id of ids) this.running.delete(id);
  }

  adopt(ids: string[]): void {
    this.adopted.push(ids);
  }

  async capacity(): Promise<number> {
    return 8;
  }
}
