import { Module } from '@nestjs/common';
import { ImagingService } from './imaging.service';

@Module({ providers: [ImagingService], exports: [ImagingService] })
export class ImagingModule {}
