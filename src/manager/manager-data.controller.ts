import { Controller, Delete } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/admin-only.decorator';
import { success } from '../common/course-response';
import { ManagerDataService } from './manager-data.service';

@ApiTags('manager')
@AdminOnly()
@Controller('api/manager/data')
export class ManagerDataController {
  constructor(private readonly data: ManagerDataService) {}

  @Delete()
  @ApiOperation({ summary: 'Delete every image, row and cached copy (the dashboard asks first)' })
  async deleteAll() {
    await this.data.deleteAll();
    return success({});
  }
}
