import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Registry } from 'prom-client';
import { PROMETHEUS_REGISTRY } from './prometheus-registry';
import { AdminOnly } from '../../common/admin-only.decorator';

// Per-node counters and pool layout are for operators: behind the admin guard (Prometheus sends
// the token with `authorization: { credentials: ... }`).
@ApiTags('operations')
@AdminOnly()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(PROMETHEUS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics of the app and its cache pool' })
  @ApiProduces('text/plain')
  async scrape(@Res({ passthrough: true }) response: Response): Promise<string> {
    response.setHeader('Content-Type', this.registry.contentType);
    return this.registry.metrics();
  }
}
