import { ForbiddenException, BadRequestException } from '@nestjs/common';
import type { ImageQuery } from './image-query';
import type { UrlSigner } from './url-signature';
import { isEmpty, type Fit, type OutputFormat, type VariantParams } from './variant-params';

/** A variant with every choice made: its identity is what it is cached under. */
export interface VariantSpec {
  w?: number;
  h?: number;
  fit: Fit;
  /** `original`: the source's own format where a variant can be written in it (pipeline). */
  fmt: OutputFormat | 'original';
  q: number;
  /** e.g. `320x320-cover-webp-q80`; with the original's version it names the bytes. */
  id: string;
}

export interface SpecContext {
  presets: ReadonlyMap<string, VariantParams>;
  signer: UrlSigner;
  defaultQuality: number;
  /** The request's Accept header, for fmt=auto. */
  accept: string | undefined;
}

/**
 * The variant a query asks for, or null for the original. Presets are open to anyone (a few
 * sizes per image at most) and combine only with fmt; any other size needs a signed URL, or
 * anyone could make the server render a million sizes.
 */
export function resolveVariant(query: ImageQuery, ctx: SpecContext): VariantSpec | null {
  let params = query.params;
  if (query.preset !== undefined) {
    const preset = ctx.presets.get(query.preset);
    if (!preset) {
      throw new BadRequestException(
        `unknown preset ${JSON.stringify(query.preset)}; presets: ${[...ctx.presets.keys()].join(', ') || 'none'}`,
      );
    }
    const { fmt, ...sizing } = params;
    if (!isEmpty(sizing)) throw new BadRequestException('a preset combines only with fmt');
    params = { ...preset, ...(fmt ? { fmt } : {}) };
  } else if (!isEmpty(params)) {
    checkSignature(query, ctx.signer);
  } else {
    return null;
  }
  const fit = params.fit ?? 'inside';
  const fmt = params.fmt === 'auto' ? negotiate(ctx.accept) : (params.fmt ?? 'original');
  const q = params.q ?? ctx.defaultQuality;
  const id = `${params.w ?? ''}x${params.h ?? ''}-${fit}-${fmt}-q${q}`;
  return { w: params.w, h: params.h, fit, fmt, q, id };
}

function checkSignature(query: ImageQuery, signer: UrlSigner): void {
  if (!signer.enabled) {
    throw new ForbiddenException('sizes other than presets need a signed URL, and signing is off');
  }
  if (query.signature === undefined) {
    throw new ForbiddenException('sizes other than presets need a signed URL (sig=...)');
  }
  if (!signer.verify(query.signed, query.signature)) {
    throw new ForbiddenException('sig does not match this URL');
  }
}

/** AVIF, then WebP, then the original's format: the smallest the client says it can show. */
export function negotiate(accept: string | undefined): OutputFormat | 'original' {
  const types = (accept ?? '')
    .split(',')
    .filter((part) => !/;\s*q=0(\.0*)?\s*$/.test(part))
    .map((part) => part.split(';')[0].trim().toLowerCase());
  if (types.includes('image/avif')) return 'avif';
  if (types.includes('image/webp')) return 'webp';
  return 'original';
}
