import { MissRate, MissRateSource } from './metrics.ports';
import { StatsAggregator } from './stats.aggregator';

/** The miss rate of the local driver: read from this app's own aggregator of the node polls. */
export class LocalMissRateSource implements MissRateSource {
  constructor(private readonly aggregator: StatsAggregator) {}

  async missRate(windowEnd: Date, windowMs: number): Promise<MissRate> {
    return this.aggregator.window(windowEnd, windowMs);
  }
}
