import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsIn, IsInt, IsOptional, IsString, Min } from 'class-validator';

/** group15's notify body (node_ip, mode, change) plus the epoch of the new assignment. */
export class NotifyDto {
  @ApiPropertyOptional({ type: [String], description: 'Node addresses of the new pool' })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  node_ip?: string[];

  @ApiPropertyOptional({ enum: ['grow', 'shrink'] })
  @IsOptional()
  @IsIn(['grow', 'shrink'])
  mode?: 'grow' | 'shrink';

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(0)
  change?: number;

  @ApiPropertyOptional({ description: 'Epoch of the new assignment' })
  @IsOptional()
  @IsInt()
  @Min(0)
  epoch?: number;
}
