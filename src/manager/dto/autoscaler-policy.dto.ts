import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';
import { toLowerWord, toStrictNumber } from './param-transforms';
import { IsNumberIn } from './range.validators';

/**
 * A change of the auto-scaler policy; fields left out keep their value. minMiss must stay below
 * maxMiss, which the service checks against the merged policy.
 */
export class AutoscalerPolicyDto {
  @ApiPropertyOptional({ enum: ['manual', 'auto'] })
  @IsOptional()
  @Transform(toLowerWord)
  @IsIn(['manual', 'auto'], { message: 'mode must be manual or auto' })
  mode?: 'manual' | 'auto';

  @ApiPropertyOptional({ minimum: 0, maximum: 1, description: 'Grow above this miss rate' })
  @IsOptional()
  @Transform(toStrictNumber)
  @IsNumberIn(0, 1)
  maxMiss?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, description: 'Shrink below this miss rate' })
  @IsOptional()
  @Transform(toStrictNumber)
  @IsNumberIn(0, 1)
  minMiss?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 8, description: 'Growth factor, e.g. 2 doubles' })
  @IsOptional()
  @Transform(toStrictNumber)
  @IsNumberIn(1, 8)
  expRatio?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, description: 'Shrink factor, e.g. 0.5 halves' })
  @IsOptional()
  @Transform(toStrictNumber)
  @IsNumberIn(0, 1)
  shrinkRatio?: number;
}
