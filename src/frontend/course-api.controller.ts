import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Res,
  Query,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { success } from '../common/course-response';
import { CourseTesterRoute } from '../common/admin-only.decorator';
import { ImageService, UploadedImageFile } from './image.service';
import { RequireMultipartInterceptor } from './require-multipart.interceptor';
import { UploadSlotsInterceptor } from './upload-slots.interceptor';
import { ReadPathService } from './read-path.service';
import { ClearDataService } from './clear-data.service';
import { ResponseBudget } from '../common/response-budget';
import { sendCourseImage } from './course-image-response';
import { WriteGuard } from '../common/write.guard';
import { RateLimited } from '../common/rate-limit/rate-limit.guard';
import { ListKeysQuery } from './dto/list-keys.query';
import { versionEtag } from '../image/image-response';

/** The course's front-end API (shared/reference/course-api.md): these bodies are compared exactly. */
@ApiTags('course API')
@Controller('api')
export class CourseApiController {
  constructor(
    private readonly images: ImageService,
    private readonly readPath: ReadPathService,
    private readonly data: ClearDataService,
    private readonly budget: ResponseBudget,
  ) {}

  @Post('upload')
  @HttpCode(200)
  @UseGuards(WriteGuard)
  @RateLimited('uploads')
  @UseInterceptors(RequireMultipartInterceptor, UploadSlotsInterceptor, FileInterceptor('file'))
  @ApiOperation({ summary: 'Store an image under a key (replaces what the key held)' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['key', 'file'],
      properties: { key: { type: 'string' }, file: { type: 'string', format: 'binary' } },
    },
  })
  async upload(
    @Body() body: Record<string, unknown> | undefined,
    @UploadedFile() file: UploadedImageFile | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const record = await this.images.upload(body?.key, file);
    // The version committed, as the ETag a read of it answers: the body is the course's, unchanged.
    res.setHeader('ETag', versionEtag(record.version));
    return success({ key: record.key });
  }

  @Post('list_keys')
  @HttpCode(200)
  @RateLimited('listings')
  @ApiOperation({
    summary:
      'Keys in code point order, at most `limit` (server.listKeysMax) after `after`; `next` when more follow',
  })
  async listKeys(@Query() query: ListKeysQuery) {
    return success(await this.images.listKeys(query));
  }

  @Post('key/:key')
  @HttpCode(200)
  @ApiOperation({ summary: 'One image as base64 in JSON' })
  async getKey(@Param('key') key: string, @Res() res: Response): Promise<void> {
    this.budget.refuseEarly(key);
    sendCourseImage(res, await this.images.get(key), this.budget);
  }

  /** The course API is POST only; GET is accepted too since it is a read. */
  @Get('key/:key')
  @ApiOperation({ summary: 'One image as base64 in JSON (GET alias)' })
  getKeyByGet(@Param('key') key: string, @Res() res: Response): Promise<void> {
    return this.getKey(key, res);
  }

  @Delete('clear/data')
  @CourseTesterRoute()
  @ApiOperation({ summary: 'Delete every image, row and cached copy' })
  async clearData() {
    await this.data.clearData();
    return success({});
  }

  @Delete('clear/cache')
  @CourseTesterRoute()
  @ApiOperation({ summary: 'Drop every cached copy (storage keeps the images)' })
  async clearCache() {
    await this.readPath.clearCache();
    return success({});
  }
}
