import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';

/** list_keys pages: `limit` keys after the key `after` (the previous answer's `next`). */
export class ListKeysQuery {
  @ApiPropertyOptional({ description: 'Most keys in the answer (at most server.listKeysMax)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be at least 1' })
  limit?: number;

  @ApiPropertyOptional({ description: 'Answer keys after this one: the previous answer’s `next`' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  after?: string;
}
