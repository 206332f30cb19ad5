import { Controller, Get, Headers, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiImageQuery } from './image-query.openapi';
import type { Request, Response } from 'express';
import { success } from '../common/course-response';
import { ImageService } from './image.service';
import { ImageUrlService } from './image-url.service';
import { sendImage } from '../image/image-response';
import { ResponseBudget } from '../common/response-budget';

/** Human-friendly routes beside the course API: raw bytes for <img> and metadata for the pages. */
@ApiTags('images')
@Controller()
export class ImagesController {
  constructor(
    private readonly images: ImageService,
    private readonly budget: ResponseBudget,
    private readonly urls: ImageUrlService,
  ) {}

  /** Served by ImageFastPath before Nest sees it; this route documents it and is its fallback. */
  @Get('images/:key')
  @ApiOperation({
    summary: 'The image bytes, or a variant, with Content-Type and ETag (304 on If-None-Match)',
    description:
      'Without parameters: the original. preset (with fmt) needs no signature; any other w, h, ' +
      'fit or q needs sig. With v of the current version the answer is immutable for a year; ' +
      'another v is 404. See README "Variants".',
  })
  @ApiImageQuery()
  async raw(
    @Param('key') key: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const at = req.originalUrl.indexOf('?');
    const path = at === -1 ? req.originalUrl : req.originalUrl.slice(0, at);
    const query = at === -1 ? '' : req.originalUrl.slice(at + 1);
    if (ifNoneMatch === undefined && query === '') this.budget.refuseEarly(key);
    const { image, cacheControl } = await this.urls.read(key, path, query, req.headers.accept);
    sendImage(res, image, ifNoneMatch, false, this.budget, cacheControl);
  }

  @Get('api/images/:key')
  @ApiOperation({ summary: 'What is stored under a key: type, size, version, times' })
  async describe(@Param('key') key: string) {
    const r = await this.images.describe(key);
    return success({
      key: r.key,
      contentType: r.contentType,
      byteSize: r.byteSize,
      checksum: r.checksum,
      version: r.version,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    });
  }
}
