/** Runtime checks for messages from an untrusted peer (a webview), shared by the webview protocols. */

/** Bounds that keep a hostile or buggy peer from making the other side do unbounded work. */
const MAX_TEXT = 200_000;
export const MAX_QUESTION = 8_000;
const MAX_ITEMS = 500;

type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isString(value: unknown, max = MAX_TEXT): value is string {
  return typeof value === 'string' && value.length <= max;
}

export function isOptionalString(value: unknown): boolean {
  return value === undefined || isString(value);
}

export function isLine(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 10_000_000;
}

export function isOneOf<T>(values: readonly T[], value: unknown): value is T {
  return values.includes(value as T);
}

export function isArrayOf<T>(value: unknown, guard: (item: unknown) => item is T): value is T[] {
  return Array.isArray(value) && value.length <= MAX_ITEMS && value.every(guard);
}
