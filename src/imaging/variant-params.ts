/** What a variant asks for: imgproxy's resize semantics in the query form of the image handler. */
export const FITS = ['cover', 'contain', 'inside'] as const;
export type Fit = (typeof FITS)[number];

/** `auto` is negotiated from Accept before a variant has an identity (variant-identity.ts). */
export const FORMATS = ['auto', 'webp', 'avif', 'jpeg', 'png'] as const;
export type RequestedFormat = (typeof FORMATS)[number];
export type OutputFormat = Exclude<RequestedFormat, 'auto'>;

export interface VariantParams {
  w?: number;
  h?: number;
  fit?: Fit;
  fmt?: RequestedFormat;
  q?: number;
}

export function isEmpty(params: VariantParams): boolean {
  return Object.values(params).every((value) => value === undefined);
}
