import { Module } from '@nestjs/common';
import { ImagingService } from './imaging.service';
import { TransformMetrics } from './transform-metrics';

@Module({ providers: [ImagingService, TransformMetrics], exports: [ImagingService] })
export class ImagingModule {}
