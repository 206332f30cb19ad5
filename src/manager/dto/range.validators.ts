import { ValidateBy } from 'class-validator';

/*
 * One check and one message per field: with IsInt + Min + Max, a value like "abc" fails all three
 * and the caller reads the same sentence three times.
 */

/** An integer in min..max; the message names the field and the range. */
export function IsIntegerIn(min: number, max: number, unit = ''): PropertyDecorator {
  return ValidateBy({
    name: 'isIntegerIn',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max,
      defaultMessage: (args) => `${args?.property} must be an integer${unit} in ${min}..${max}`,
    },
  });
}

/** A finite number in min..max. */
export function IsNumberIn(min: number, max: number): PropertyDecorator {
  return ValidateBy({
    name: 'isNumberIn',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max,
      defaultMessage: (args) => `${args?.property} must be a number in ${min}..${max}`,
    },
  });
}
