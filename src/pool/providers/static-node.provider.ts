import { NodeEndpoint, NodeProvider } from './node-provider.port';

/**
 * A fixed list of nodes that run on their own (systemd, containers, another operator). "Start"
 * takes nodes of the list into use in order and "stop" hands them back; nothing is spawned or
 * killed, so several app instances can share one list.
 */
export class StaticNodeProvider implements NodeProvider {
  readonly kind = 'static' as const;
  private readonly all: NodeEndpoint[];
  private readonly inUse = new Set<string>();

  constructor(
    hostPorts: string[],
    private readonly isHealthy: (url: string) => Promise<boolean>,
  ) {
    this.all = hostPorts.map((hostPort) => {
      if (!/^[\w.-]+:\d{1,5}$/.test(hostPort)) {
        throw new Error(`pool.staticNodes: "${hostPort}" is not host:port`);
      }
      return { id: `static-${hostPort}`, url: `http://${hostPort}` };
    });
  }

  async list(): Promise<NodeEndpoint[]> {
    return this.all.filter((node) => this.inUse.has(node.id));
  }

  adopt(ids: string[]): void {
    this.inUse.clear();
    for (const id of ids) if (this.all.some((n) => n.id === id)) this.inUse.add(id);
  }

  /** Takes the first `count` unused nodes that answer /health, in list order; a dead spare is skipped. */
  async start(count: number): Promise<NodeEndpoint[]> {
    const free = this.all.filter((node) => !this.inUse.has(node.id));
    const picked: NodeEndpoint[] = [];
    const unhealthy: string[] = [];
    for (const node of free) {
      if (picked.length === count) break;
      if (await this.isHealthy(node.url)) picked.push(node);
      else unhealthy.push(node.url);
    }
    if (picked.length < count) {
      const why = unhealthy.length > 0 ? ` (not answering /health: ${unhealthy.join(', ')})` : '';
      throw new Error(
        `static pool has ${picked.length} usable unused node(s), ${count} requested${why}`,
      );
    }
    for (const node of picked) this.inUse.add(node.id);
    return picked;
  }

  async stop(ids: string[]): Promise<void> {
    for (const id of ids) this.inUse.delete(id);
  }

  async capacity(): Promise<number> {
    return this.all.length;
  }
}
