import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import axios from 'axios';
import { AppConfig } from '../config/app-config';
import { PoolEvents } from './pool-events';
import { PoolState } from './pool-state';

/**
 * Tells the other app instances (server.peers) that the assignment changed, through their
 * /api/notify, in group15's fields plus the epoch. Best effort: an instance that misses it still
 * learns from the stored epoch within one health interval, or from a node's "not owner".
 */
@Injectable()
export class PeerNotifier implements OnModuleInit {
  private readonly logger = new Logger(PeerNotifier.name);

  constructor(
    private readonly config: AppConfig,
    private readonly events: PoolEvents,
  ) {}

  onModuleInit(): void {
    this.events.subscribe({ assignmentChanged: (state) => void this.notifyAll(state) });
  }

  private async notifyAll(state: PoolState): Promise<void> {
    const change = state.nodes.length - (state.previous?.nodes.length ?? 0);
    const peers = this.config.server.peers
      .split(',')
      .map((p) => p.trim().replace(/\/+$/, ''))
      .filter(Boolean);
    const token = this.config.security.adminToken;
    await Promise.all(
      peers.map((peer) =>
        axios
          .post(
            `${peer}/api/notify`,
            {
              node_ip: state.nodes.map((n) => n.url),
              mode: change >= 0 ? 'grow' : 'shrink',
              change: Math.abs(change),
              epoch: state.epoch,
            },
            { timeout: 2000, headers: token ? { Authorization: `Bearer ${token}` } : {} },
          )
          .catch((err: Error) => this.logger.warn(`could not notify ${peer}: ${err.message}`)),
      ),
    );
  }
}
