import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { DependencyMetrics } from './dependency-metrics';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  // Breaker states on /metrics: here, beside the probes, where both guards are at hand.
  providers: [DependencyMetrics],
})
export class HealthModule {}
