import { Inject, Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { BreakerState } from '../common/circuit-breaker';
import { DependencyGuard } from '../common/dependency-guard';
import { DATABASE_GUARD } from '../database/database.module';
import { GuardedBlobStore } from '../storage/guarded-blob-store';
import { PROMETHEUS_REGISTRY } from '../metrics/prometheus/prometheus-registry';

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** pixpool_dependency_breaker_state{dependency}: 0 closed, 1 half-open (trial call), 2 open. */
@Injectable()
export class DependencyMetrics {
  constructor(
    @Inject(PROMETHEUS_REGISTRY) registry: Registry,
    @Inject(DATABASE_GUARD) database: DependencyGuard,
    storage: GuardedBlobStore,
  ) {
    const guards = [database, storage.guard];
    new Gauge({
      name: 'pixpool_dependency_breaker_state',
      help: 'Circuit breaker of a dependency: 0 closed, 1 half-open, 2 open (answering 503 at once)',
      labelNames: ['dependency'],
      registers: [registry],
      collect() {
        for (const guard of guards)
          this.set({ dependency: guard.dependency }, STATE_VALUE[guard.state]);
      },
    });
  }
}
