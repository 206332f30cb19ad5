import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { FITS, FORMATS } from '../imaging/variant-params';

/** The query parameters of GET /images/:key (src/imaging/image-query.ts), for OpenAPI. */
export function ApiImageQuery(): MethodDecorator {
  const optional = { required: false } as const;
  return applyDecorators(
    ApiQuery({
      ...optional,
      name: 'preset',
      type: String,
      description: 'a configured preset (GET /api/presets)',
    }),
    ApiQuery({
      ...optional,
      name: 'w',
      type: Number,
      description: 'width in pixels, 1..imaging.maxDimension (signed)',
    }),
    ApiQuery({
      ...optional,
      name: 'h',
      type: Number,
      description: 'height in pixels, 1..imaging.maxDimension (signed)',
    }),
    ApiQuery({
      ...optional,
      name: 'fit',
      enum: FITS,
      description: 'how w x h is filled (default inside)',
    }),
    ApiQuery({
      ...optional,
      name: 'fmt',
      enum: FORMATS,
      description: 'output format; auto: AVIF, WebP or the original by Accept',
    }),
    ApiQuery({ ...optional, name: 'q', type: Number, description: 'quality 1..100 (signed)' }),
    ApiQuery({
      ...optional,
      name: 'v',
      type: Number,
      description: 'the current version: the answer is immutable',
    }),
    ApiQuery({
      ...optional,
      name: 'sig',
      type: String,
      description: 'base64url HMAC-SHA256 of path?query before sig; last',
    }),
  );
}
