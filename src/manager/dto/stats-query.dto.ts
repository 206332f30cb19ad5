import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional } from 'class-validator';
import { toStrictNumber } from './param-transforms';
import { IsIntegerIn } from './range.validators';

export class StatsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1440, default: 30 })
  @IsOptional()
  @Transform(toStrictNumber)
  @IsIntegerIn(1, 1440)
  minutes?: number;
}
