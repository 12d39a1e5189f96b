import { ValidationError } from '../errors/app-errors';

/** WHMCS ids are positive 32-bit integers. */
export function requireId(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 2147483647) {
    throw new ValidationError(`${name} must be a positive whole number`, { field: name });
  }
  return value;
}

/** Our own ids travel as GraphQL IDs (strings of digits). */
export function requireIdString(name: string, value: string): number {
  if (!/^\d{1,10}$/.test(value)) throw new ValidationError(`${name} is not an id`, { field: name });
  return requireId(name, Number(value));
}
