import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';
import { NODE_POLICIES, NodePolicy } from '../../protocol/cache-node.protocol';
import { CAPACITY_MB_MAX, CAPACITY_MB_MIN } from '../settings/stored-cache-settings';
import { toNodePolicy, toStrictNumber } from './param-transforms';
import { IsIntegerIn } from './range.validators';

/** An optional per-node capacity in MB: `capacityMb` here, `cacheSize` in the course's query. */
export const OptionalCapacityMb = () =>
  applyDecorators(
    ApiPropertyOptional({
      minimum: CAPACITY_MB_MIN,
      maximum: CAPACITY_MB_MAX,
      description: 'Per node, MB',
    }),
    IsOptional(),
    Transform(toStrictNumber),
    IsIntegerIn(CAPACITY_MB_MIN, CAPACITY_MB_MAX, ' (MB)'),
  );

/** A change of the pool's one cache configuration; fields left out keep their value. */
export class CacheSettingsDto {
  @OptionalCapacityMb()
  capacityMb?: number;

  @ApiPropertyOptional({ enum: NODE_POLICIES, description: 'Also LRU / RR, any case' })
  @IsOptional()
  @Transform(toNodePolicy)
  @IsIn(NODE_POLICIES, { message: 'policy must be LRU, RR (random) or sieve' })
  policy?: NodePolicy;
}
