import { ResizeProgress } from '../pool/membership/resize.service';

export interface NodeView {
  id: string;
  url: string;
  /** Regions this node owns at the current epoch. */
  regions: number[];
  /**
   * Last health check; null before the first. state: serving, suspected (by this instance: its
   * keys read from storage) or quarantined (by the pool, until it rejoins empty or is replaced).
   */
  health: {
    ok: boolean;
    checkedAt: string;
    error?: string;
    state: 'serving' | 'suspected' | 'quarantined';
    failures?: number;
  } | null;
  /** Gauges from the last statistics poll; null before the first. */
  cache: { items: number; bytesUsed: number; capacityBytes: number; policy: string } | null;
}

/** An operator's resize (from this instance) and how it ended. */
export interface ResizeRecord {
  from: number;
  to: number;
  reason: string;
  startedAt: string;
  finishedAt?: string;
  outcome?: 'ok' | 'failed';
  error?: string;
}

export interface PoolView {
  size: number;
  min: number;
  max: number;
  epoch: number;
  /** Node id per region (16). */
  owners: string[];
  nodes: NodeView[];
  resize: { running: boolean; progress: ResizeProgress | null; last: ResizeRecord | null };
}
