/**
 * Command-line numbers shared by the harness's runs (soak, benches): a `--name N` option that
 * must be a positive integer.
 *
 * @module
 */

/**
 * `value` as a positive integer, `fallback` when it is absent.
 *
 * @param run What is being run, for the error (`"the soak test"`, `"bench:islands"`).
 * @param name The option's name without its dashes.
 * @param value The option's text, if given.
 * @param fallback The default.
 * @returns The number.
 * @throws {RangeError} When `value` is not a positive integer.
 */
export function positiveOption(
  run: string,
  name: string,
  value: string | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) {
    throw new RangeError(`Cannot run ${run}: "--${name}" must be a positive integer`);
  }
  return number;
}
