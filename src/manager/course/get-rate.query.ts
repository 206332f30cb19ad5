import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn } from 'class-validator';
import { toLowerWord } from '../dto/param-transforms';

export class GetRateQuery {
  @ApiProperty({ enum: ['miss', 'hit'] })
  @Transform(toLowerWord)
  @IsIn(['miss', 'hit'], { message: 'rate must be miss or hit' })
  rate!: 'miss' | 'hit';
}
