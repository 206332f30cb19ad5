import { ValueTransformer } from 'typeorm';

/**
 * BIGINT columns as JS numbers. mysql2 hands BIGINT back as a string (to not lose precision past
 * 2^53); our bigints (versions, which count up by one per write from where the microsecond clock
 * stood when the version counter was created, about 2^51) stay far below it, so a number holds
 * them exactly.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
