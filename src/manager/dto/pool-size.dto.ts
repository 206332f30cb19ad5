import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { toStrictNumber } from './param-transforms';
import { IsIntegerIn } from './range.validators';

export class PoolSizeDto {
  @ApiProperty({
    minimum: 1,
    maximum: 8,
    description: 'Nodes wanted (within config pool.min..max)',
  })
  @Transform(toStrictNumber)
  @IsIntegerIn(1, 8)
  size!: number;
}
