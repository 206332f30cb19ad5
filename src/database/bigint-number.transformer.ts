import { ValueTransformer } from 'typeorm';

/**
 * BIGINT columns as JS numbers. mysql2 hands BIGINT back as a string (to not lose precision past
 * 2^53); our bigints are µs timestamps, about 2^51 today, so a number holds them exactly.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
