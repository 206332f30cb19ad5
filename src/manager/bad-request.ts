import { BadRequestException } from '@nestjs/common';

/**
 * The settings checks throw RangeError naming the field (they also guard the stores); at the API
 * that is the caller's mistake, a 400 in the failure shape.
 */
export async function rangeErrorsAsBadRequest<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof RangeError) throw new BadRequestException(err.message);
    throw err;
  }
}
