/**
 * The read side of a Nano Stores atom, declared here member for member so the published types
 * document themselves (the `nanostores` package keeps one of its helper types private). A test
 * proves it is the same type as `nanostores`' `ReadableAtom` both ways, so `useStore` of
 * `@nanostores/react`, `@nanostores/preact`, `@nanostores/vue` and `@nanostores/solid`, and
 * Svelte's `$store`, accept every store this entry makes.
 *
 * @module
 */

/**
 * `Value`, read-only when it is an object (what listeners receive).
 *
 * @typeParam Value The store's value type.
 */
export type ReadonlyIfObject<Value> = Value extends undefined ? Value
  : Value extends (...args: never[]) => unknown ? Value
  : Value extends boolean | number | string ? Value
  : Value extends object ? Readonly<Value>
  : Value;

/**
 * A Nano Stores atom that the caller reads and listens to, but does not set.
 *
 * @typeParam Value The store's value type.
 */
export interface ReadableAtom<Value = unknown> {
  /** Compares the old and new value on each write; `true` keeps the old one. */
  eq(oldValue: ReadonlyIfObject<Value> | undefined, newValue: ReadonlyIfObject<Value>): boolean;
  /** The current value, mounting the store briefly when it has no listener. */
  get(): Value;
  /** The initial value. */
  readonly init: undefined | Value;
  /** The number of listeners. */
  readonly lc: number;
  /** Calls `listener` on every change (not at once); answers the function that stops it. */
  listen(
    listener: (
      value: ReadonlyIfObject<Value>,
      oldValue: ReadonlyIfObject<Value> | undefined,
    ) => void,
  ): () => void;
  /** Calls the listeners (internal to Nano Stores). */
  notify(oldValue?: ReadonlyIfObject<Value>): void;
  /** Called when the last listener leaves (internal to Nano Stores). */
  off(): void;
  /** Calls `listener` at once and on every change; answers the function that stops it. */
  subscribe(
    listener: (value: ReadonlyIfObject<Value>, oldValue?: ReadonlyIfObject<Value>) => void,
  ): () => void;
  /** The current value without mounting the store. */
  readonly value: undefined | Value;
}
