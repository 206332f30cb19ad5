import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { success } from '../common/course-response';
import { ImagingService } from '../imaging/imaging.service';

/** The configured presets, for pages that build `srcset` from them (README "Variants"). */
@ApiTags('images')
@Controller()
export class PresetsController {
  constructor(private readonly imaging: ImagingService) {}

  @Get('api/presets')
  @ApiOperation({
    summary: 'Named variants usable as /images/:key?preset=NAME without a signature',
  })
  list() {
    const presets = [...this.imaging.presets].map(([name, params]) => ({ name, ...params }));
    return success({ presets });
  }
}
