import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';
import { NODE_POLICIES, NodePolicy } from '../../protocol/cache-node.protocol';
import { AutoscalerPolicyDto } from '../dto/autoscaler-policy.dto';
import { toNodePolicy, toStrictNumber } from '../dto/param-transforms';
import { IsIntegerIn } from '../dto/range.validators';
import { OptionalCapacityMb } from '../dto/cache-settings.dto';

/**
 * The course's `configure_cache` query: every parameter optional and read by name; the auto-scaler
 * fields (mode, maxMiss, minMiss, expRatio, shrinkRatio) as in AutoscalerPolicyDto.
 */
export class ConfigureCacheQuery extends AutoscalerPolicyDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 8,
    description: 'Resize the pool to this many nodes',
  })
  @IsOptional()
  @Transform(toStrictNumber)
  @IsIntegerIn(1, 8)
  numNodes?: number;

  @OptionalCapacityMb()
  cacheSize?: number;

  @ApiPropertyOptional({ enum: ['LRU', 'RR', 'sieve'], description: 'Any case' })
  @IsOptional()
  @Transform(toNodePolicy)
  @IsIn(NODE_POLICIES, { message: 'policy must be LRU or RR (or sieve)' })
  policy?: NodePolicy;
}
