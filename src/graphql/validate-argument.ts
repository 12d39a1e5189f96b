import { validateOrReject, type ValidationError, type ValidatorOptions } from 'class-validator';
import { ArgumentValidationError } from 'type-graphql';

/** As type-graphql's own validation: fields left out are not checked, unknown objects pass. */
const OPTIONS: ValidatorOptions = { skipMissingProperties: true, forbidUnknownValues: false };

/**
 * Checks one resolver argument against its class-validator rules, as type-graphql's built-in
 * validation does (the same options, the same ArgumentValidationError), but without its cost on
 * arguments that have no rules: the built-in one loads class-validator again (a `require`) for every
 * object argument of every request, a `Date` included.
 */
export async function validateArgument(value: unknown): Promise<void> {
  if (value === null || typeof value !== 'object' || value instanceof Date) return;
  const items = (Array.isArray(value) ? value : [value]).filter(
    (item): item is object => item !== null && typeof item === 'object' && !(item instanceof Date),
  );
  try {
    await Promise.all(items.map((item) => validateOrReject(item, OPTIONS)));
  } catch (errors) {
    throw new ArgumentValidationError(errors as ValidationError[]);
  }
}
