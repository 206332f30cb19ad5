import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CourseTesterRoute } from '../../common/admin-only.decorator';
import { ConfigureCacheQuery } from './configure-cache.query';
import { CourseManagerService } from './course-manager.service';
import { GetRateQuery } from './get-rate.query';

/**
 * The course's tester endpoints: POST as the course defines them, and GET aliases, which course
 * clients never send but browsers and curl users do (a Nest handler maps one method only). Admin
 * token or loopback, unless security.openCourseEndpoints opens them: course clients send no token.
 */
@ApiTags('course API')
@CourseTesterRoute()
@Controller('api')
export class CourseManagerController {
  constructor(private readonly course: CourseManagerService) {}

  @Post('getNumNodes')
  @HttpCode(200)
  @ApiOperation({ summary: 'Nodes in the pool: {"success":"true","numNodes":N}' })
  getNumNodes() {
    return this.course.numNodes();
  }

  @Get('getNumNodes')
  @ApiOperation({ summary: 'Nodes in the pool (GET alias)' })
  getNumNodesByGet() {
    return this.course.numNodes();
  }

  @Post('getRate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Pool miss or hit rate over the last 60 s (?rate=miss|hit), 0 when idle',
  })
  getRate(@Query() query: GetRateQuery) {
    return this.course.rate(query.rate);
  }

  @Get('getRate')
  @ApiOperation({ summary: 'Pool miss or hit rate over the last 60 s (GET alias)' })
  getRateByGet(@Query() query: GetRateQuery) {
    return this.course.rate(query.rate);
  }

  // State-changing routes answer no GET (405 with Allow): an <img src> or a link prefetch must
  // never resize the pool or delete data. The course clients all use POST.
  @Post('configure_cache')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Resize the pool (answers once done), set cache size and policy and the auto-scaler; ' +
      'echoes mode, numNodes, cacheSize, policy',
  })
  configureCache(@Query() query: ConfigureCacheQuery) {
    return this.course.configure(query);
  }

  @Post('delete_all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Delete every image, row and cached copy: {"success":"true"}' })
  deleteAll() {
    return this.course.deleteAll();
  }
}
