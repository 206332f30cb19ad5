import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { success } from '../common/course-response';
import { ImageService } from './image.service';

/** Human-friendly routes beside the course API: raw bytes for <img> and metadata for the pages. */
@ApiTags('images')
@Controller()
export class ImagesController {
  constructor(private readonly images: ImageService) {}

  @Get('images/:key')
  @ApiOperation({ summary: 'The image bytes, with Content-Type and ETag (304 on If-None-Match)' })
  async raw(
    @Param('key') key: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const image = await this.images.get(key);
    const etag = `"v${image.version}"`;
    // Keys are mutable: caches may keep the bytes but must ask again before using them.
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('ETag', etag);
    // Like a CDN's: lets operators and tests see whether the pool served the read.
    res.setHeader('X-Cache', image.source === 'cache' ? 'HIT' : 'MISS');
    if (ifNoneMatch && matchesEtag(ifNoneMatch, etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Type', image.contentType);
    res.setHeader('Content-Length', image.body.length);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.status(200).end(image.body);
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

function matchesEtag(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
