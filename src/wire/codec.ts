/**
 * Lunora's wire value codec: JSON, with the values JSON cannot carry encoded as arrays whose
 * first element is the tag {@linkcode WIRE_TAG}.
 *
 * | value | wire form |
 * | --- | --- |
 * | `bigint` | `[TAG, "bigint", "<decimal>"]` |
 * | `NaN`, `Infinity`, `-Infinity` | `[TAG, "nan"]`, `[TAG, "inf"]`, `[TAG, "-inf"]` |
 * | `undefined` in an array (or a `Map`/`Set`) | `[TAG, "undefined"]`; `undefined` object fields are dropped |
 * | `Date` | `[TAG, "date", <epoch ms>]` (an invalid date's epoch is `[TAG, "nan"]`) |
 * | `URL` | `[TAG, "url", href]` |
 * | `Map`, `Set` | `[TAG, "map", [[k, v], ...]]`, `[TAG, "set", [...]]` |
 * | `Uint8Array` | `[TAG, "bytes", "<base64>"]` |
 * | `ArrayBuffer`, other typed arrays | `[TAG, "bytes", "<base64>", "<Ctor>"]` |
 * | `Error` | `[TAG, "error", name, message, {own enumerable props}, cause?]` (never the stack) |
 * | an array whose first element is the tag | `[TAG, "arr", [...]]` |
 *
 * Pure JSON encodes to itself (the very same objects: nothing is copied when nothing needs
 * encoding), so `JSON.stringify` output is byte-identical. Both directions stop at
 * {@linkcode MAX_WIRE_DEPTH} levels with a `RangeError`, never a stack overflow. Decoding is
 * for untrusted input: malformed tags throw `TypeError` (or `RangeError` for sizes), unknown
 * tags stay plain arrays, and `__proto__` keys become own data properties.
 *
 * The codec is shared by the worker and `@lunora/astro/server`; it uses nothing but the
 * language and `atob`/`btoa`.
 *
 * @module
 */
import { base64ToBytes, bytesToBase64 } from "./_base64.ts";

/** The string that marks an array as a tagged wire value. */
export const WIRE_TAG = "$lunora.wire$";

/** Deepest nesting either direction accepts: a value below this many levels is refused. */
export const MAX_WIRE_DEPTH = 64;

/** Most decimal digits a decoded `bigint` may have. */
export const MAX_BIGINT_DIGITS = 1024;

type TypedArrayConstructor = new (buffer: ArrayBuffer) => ArrayBufferView;

const VIEWS: ReadonlyMap<string, TypedArrayConstructor> = new Map(
  [
    Int8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    (globalThis as { Float16Array?: TypedArrayConstructor }).Float16Array,
  ].filter((ctor) => ctor !== undefined).map((ctor) => [ctor.name, ctor as TypedArrayConstructor]),
);

const ERRORS: ReadonlyMap<string, ErrorConstructor> = new Map(
  [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError].map((
    ctor,
  ) => [ctor.name, ctor]),
);

/** The internal name of a typed array (`"Float32Array"`), `undefined` for anything else. */
const typedArrayName = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)!.get as (this: unknown) => string | undefined;

const isError: (value: unknown) => boolean =
  (Error as { isError?: (value: unknown) => boolean }).isError ??
    ((value) => value instanceof Error);

const getTime = Date.prototype.getTime;
const BIGINT = /^-?[0-9]+$/;

/** Whether `for...in` over a plain object also yields inherited keys (set per call). */
let polluted = false;

function hasEnumerableProtoKeys(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encodes `value` into a JSON-safe value (see the module doc for the forms). Parts that need
 * no encoding are returned as they are, not copied.
 *
 * @param value Any value made of JSON data, `bigint`, `undefined`, non-finite numbers,
 * `Date`, `URL`, `Map`, `Set`, `ArrayBuffer`, typed arrays and `Error`s.
 * @returns A value `JSON.stringify` writes losslessly.
 * @throws {TypeError} For a class instance or other non-plain object, a function or a
 * symbol, or a cycle.
 * @throws {RangeError} When nesting is deeper than {@linkcode MAX_WIRE_DEPTH}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWire } from "./codec.ts";
 *
 * assert.deepEqual(encodeWire({ n: 7n, ok: true }), { n: ["$lunora.wire$", "bigint", "7"], ok: true });
 * ```
 */
export function encodeWire(value: unknown): unknown {
  polluted = hasEnumerableProtoKeys();
  return encode(value, 0, []);
}

function encode(value: unknown, depth: number, path: unknown[]): unknown {
  if (depth > MAX_WIRE_DEPTH) throw tooDeep("encode", path, depth);
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isFinite(value)) return value;
      return [WIRE_TAG, value !== value ? "nan" : value > 0 ? "inf" : "-inf"];
    case "bigint":
      return [WIRE_TAG, "bigint", value.toString()];
    case "undefined":
      return [WIRE_TAG, "undefined"];
    case "object":
      if (value === null) return null;
      path[depth] = value;
      if (Array.isArray(value)) return encodeArray(value, depth, path);
      return encodeObject(value, depth, path);
    default:
      throw new TypeError(`Cannot encode wire value: a ${typeof value} is not supported`);
  }
}

function encodeArray(value: unknown[], depth: number, path: unknown[]): unknown {
  let out: unknown[] | undefined;
  for (let index = 0; index < value.length; index++) {
    const item = value[index];
    const encoded = encode(item, depth + 1, path);
    if (out !== undefined) out.push(encoded);
    else if (encoded !== item) {
      out = value.slice(0, index);
      out.push(encoded);
    }
  }
  const result = out ?? value;
  return value.length > 0 && value[0] === WIRE_TAG ? [WIRE_TAG, "arr", result] : result;
}

function encodeObject(value: object, depth: number, path: unknown[]): unknown {
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    return encodeFields(value as Record<string, unknown>, depth, path);
  }
  if (value instanceof Date) {
    return [WIRE_TAG, "date", encode(getTime.call(value), depth + 1, path)];
  }
  if (value instanceof URL) return [WIRE_TAG, "url", value.href];
  if (value instanceof Map) {
    const entries: unknown[] = [];
    for (const [key, item] of value) {
      entries.push([encode(key, depth + 1, path), encode(item, depth + 1, path)]);
    }
    return [WIRE_TAG, "map", entries];
  }
  if (value instanceof Set) {
    const items: unknown[] = [];
    for (const item of value) items.push(encode(item, depth + 1, path));
    return [WIRE_TAG, "set", items];
  }
  if (ArrayBuffer.isView(value)) {
    const name = typedArrayName.call(value);
    if (name !== undefined) {
      const bytes = bytesToBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      return name === "Uint8Array" ? [WIRE_TAG, "bytes", bytes] : [WIRE_TAG, "bytes", bytes, name];
    }
  } else if (value instanceof ArrayBuffer) {
    return [WIRE_TAG, "bytes", bytesToBase64(new Uint8Array(value)), "ArrayBuffer"];
  } else if (isError(value)) {
    return encodeError(value as Error, depth, path);
  } else if (
    Object.getPrototypeOf(proto) === null &&
    Object.prototype.toString.call(value) === "[object Object]"
  ) {
    // A plain object from another realm.
    return encodeFields(value as Record<string, unknown>, depth, path);
  }
  throw new TypeError(
    `Cannot encode wire value: ${describe(value)} is not plain data (use a plain object)`,
  );
}

function encodeFields(
  value: Record<string, unknown>,
  depth: number,
  path: unknown[],
): Record<string, unknown> {
  // `for...in` reads fields through V8's enum cache, about twice as fast as `Object.keys` or
  // `Object.values` plus a read per field. It also walks inherited enumerable keys, which only
  // exist when someone added one to `Object.prototype`: then each key is checked to be own.
  let out: Record<string, unknown> | undefined;
  let index = 0;
  for (const key in value) {
    if (polluted && !Object.hasOwn(value, key)) continue;
    const item = value[key];
    const encoded = item === undefined ? item : encode(item, depth + 1, path);
    if (out === undefined) {
      if (encoded === item && item !== undefined) {
        index++;
        continue;
      }
      out = copyFields(value, index);
    }
    if (encoded !== undefined) setOwn(out, key, encoded);
  }
  return out ?? value;
}

/** A fresh object with the first `count` own fields of `value`, as they are. */
function copyFields(value: Record<string, unknown>, count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (count > 0) {
    for (const key in value) {
      if (polluted && !Object.hasOwn(value, key)) continue;
      setOwn(out, key, value[key]);
      if (--count === 0) break;
    }
  }
  return out;
}

function encodeError(error: Error, depth: number, path: unknown[]): unknown[] {
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    const item = (error as unknown as Record<string, unknown>)[key];
    if (key !== "stack" && item !== undefined) setOwn(props, key, encode(item, depth + 1, path));
  }
  const name = typeof error.name === "string" ? error.name : "Error";
  const message = typeof error.message === "string" ? error.message : String(error.message);
  const parts: unknown[] = [WIRE_TAG, "error", name, message, props];
  const cause = error.cause;
  if (cause !== undefined) parts.push(encode(cause, depth + 1, path));
  return parts;
}

function tooDeep(direction: "encode" | "decode", path: unknown[], depth: number): Error {
  if (direction === "encode") {
    const ancestors = path.slice(0, depth);
    if (new Set(ancestors).size < ancestors.length) {
      return new TypeError(
        "Cannot encode wire value: it contains a cycle (an object refers to itself)",
      );
    }
  }
  return new RangeError(
    `Cannot ${direction} wire value: nesting is deeper than ${MAX_WIRE_DEPTH} levels`,
  );
}

function describe(value: object): string {
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  let name: unknown;
  try {
    name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)
      ?.constructor?.name;
  } catch {
    name = undefined;
  }
  return `an instance of "${typeof name === "string" && name !== "" ? name : tag}"`;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes a JSON value produced by {@linkcode encodeWire} (usually straight from
 * `JSON.parse`). Safe for untrusted input: it never touches a prototype and never recurses
 * past {@linkcode MAX_WIRE_DEPTH}. Parts that need no decoding are returned as they are.
 *
 * @param value The parsed JSON.
 * @returns The value with every tag revived.
 * @throws {TypeError} For a malformed tag (a payload of the wrong type, invalid base64, a
 * relative URL, ...) or input that is not JSON data.
 * @throws {RangeError} When nesting is deeper than {@linkcode MAX_WIRE_DEPTH}, a `bigint` has
 * more than {@linkcode MAX_BIGINT_DIGITS} digits, or typed-array bytes are misaligned.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWire } from "./codec.ts";
 *
 * const value = decodeWire({ at: ["$lunora.wire$", "date", 0] }) as { at: Date };
 * assert.equal(value.at.toISOString(), "1970-01-01T00:00:00.000Z");
 * ```
 */
export function decodeWire(value: unknown): unknown {
  polluted = hasEnumerableProtoKeys();
  return decode(value, 0);
}

function decode(value: unknown, depth: number): unknown {
  if (depth > MAX_WIRE_DEPTH) throw tooDeep("decode", [], depth);
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return value;
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) {
        if (value.length > 1 && value[0] === WIRE_TAG) {
          const revived = decodeTagged(value, depth);
          if (revived !== UNKNOWN_TAG) return revived;
        }
        return decodeItems(value, depth);
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`Cannot decode wire value: ${describe(value)} is not JSON data`);
      }
      return decodeFields(value as Record<string, unknown>, depth);
    }
    default:
      throw new TypeError(`Cannot decode wire value: a ${typeof value} is not JSON data`);
  }
}

function decodeItems(value: unknown[], depth: number): unknown[] {
  let out: unknown[] | undefined;
  for (let index = 0; index < value.length; index++) {
    const item = value[index];
    const decoded = decode(item, depth + 1);
    if (out !== undefined) out.push(decoded);
    else if (decoded !== item) {
      out = value.slice(0, index);
      out.push(decoded);
    }
  }
  return out ?? value;
}

function decodeFields(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  // The same walk as `encodeFields`.
  let out: Record<string, unknown> | undefined;
  let index = 0;
  for (const key in value) {
    if (polluted && !Object.hasOwn(value, key)) continue;
    const item = value[key];
    const decoded = decode(item, depth + 1);
    if (out === undefined) {
      if (decoded === item) {
        index++;
        continue;
      }
      out = copyFields(value, index);
    }
    setOwn(out, key, decoded);
  }
  return out ?? value;
}

const UNKNOWN_TAG: unique symbol = Symbol("unknown tag");

function decodeTagged(items: unknown[], depth: number): unknown {
  const name = items[1];
  switch (name) {
    case "undefined":
      return undefined;
    case "nan":
      return NaN;
    case "inf":
      return Infinity;
    case "-inf":
      return -Infinity;
    case "bigint":
      return decodeBigInt(items[2]);
    case "date": {
      const epoch = items.length > 2 ? decode(items[2], depth + 1) : undefined;
      if (typeof epoch !== "number") throw malformed(name, "the epoch must be a number");
      return new Date(epoch);
    }
    case "url": {
      const href = items[2];
      if (typeof href !== "string") throw malformed(name, "the href must be a string");
      try {
        return new URL(href);
      } catch {
        throw malformed(name, `${quote(href)} is not an absolute URL`);
      }
    }
    case "map": {
      const map = new Map<unknown, unknown>();
      for (const entry of payload(items, name)) {
        if (!Array.isArray(entry) || entry.length !== 2) {
          throw malformed(name, "every entry must be a [key, value] pair");
        }
        map.set(decode(entry[0], depth + 1), decode(entry[1], depth + 1));
      }
      return map;
    }
    case "set": {
      const set = new Set<unknown>();
      for (const item of payload(items, name)) set.add(decode(item, depth + 1));
      return set;
    }
    case "arr":
      return decodeItems(payload(items, name), depth);
    case "bytes":
      return decodeBytes(items[2], items[3]);
    case "error":
      return decodeError(items, depth);
    default:
      return UNKNOWN_TAG;
  }
}

function payload(items: unknown[], name: string): unknown[] {
  const value = items[2];
  if (!Array.isArray(value)) throw malformed(name, "the payload must be an array");
  return value;
}

function decodeBigInt(digits: unknown): bigint {
  if (typeof digits !== "string") throw malformed("bigint", "the digits must be a string");
  const count = digits.startsWith("-") ? digits.length - 1 : digits.length;
  if (count > MAX_BIGINT_DIGITS) {
    throw new RangeError(
      `Cannot decode wire value: "bigint" tag has ${count} digits, more than ${MAX_BIGINT_DIGITS}`,
    );
  }
  if (!BIGINT.test(digits)) throw malformed("bigint", `${quote(digits)} is not a decimal integer`);
  return BigInt(digits);
}

function decodeBytes(text: unknown, ctorName: unknown): Uint8Array | ArrayBuffer | ArrayBufferView {
  if (typeof text !== "string") throw malformed("bytes", "the payload must be a base64 string");
  const bytes = base64ToBytes(text);
  if (bytes === undefined) throw malformed("bytes", "the payload is not canonical base64");
  if (ctorName === "ArrayBuffer") return bytes.buffer as ArrayBuffer;
  const ctor = typeof ctorName === "string" ? VIEWS.get(ctorName) : undefined;
  if (ctor === undefined) return bytes;
  const size = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (bytes.length % size !== 0) {
    throw new RangeError(
      `Cannot decode wire value: "bytes" tag holds ${bytes.length} bytes, not a whole number of ${ctorName} elements`,
    );
  }
  return new ctor(bytes.buffer as ArrayBuffer);
}

function decodeError(items: unknown[], depth: number): Error {
  const [, , name, message, props] = items;
  if (typeof name !== "string" || typeof message !== "string") {
    throw malformed("error", "the name and message must be strings");
  }
  if (typeof props !== "object" || props === null || Array.isArray(props)) {
    throw malformed("error", "the properties must be an object");
  }
  const ctor = ERRORS.get(name);
  const error = ctor === undefined ? new Error(message) : new ctor(message);
  if (ctor === undefined) define(error, "name", name, false);
  for (const key of Object.keys(props)) {
    define(error, key, decode((props as Record<string, unknown>)[key], depth + 1));
  }
  if (items.length > 5) {
    const cause = decode(items[5], depth + 1);
    if (cause !== undefined) define(error, "cause", cause, false);
  }
  return error;
}

function malformed(name: string, detail: string): TypeError {
  return new TypeError(`Cannot decode wire value: malformed "${name}" tag: ${detail}`);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

// ---------------------------------------------------------------------------------------------
// Shared

/** Defines a writable, configurable data property. */
function define(target: object, key: string, value: unknown, enumerable = true): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable, configurable: true });
}

/** Sets an own data property, even for the key `__proto__` (never the prototype setter). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") define(target, key, value);
  else target[key] = value;
}

/**
 * `JSON.stringify(encodeWire(value))`.
 *
 * @param value The value to encode (see {@linkcode encodeWire}).
 * @returns The wire JSON text.
 * @throws {TypeError} As {@linkcode encodeWire}.
 * @throws {RangeError} As {@linkcode encodeWire}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { stringifyWire } from "./codec.ts";
 *
 * assert.equal(stringifyWire([1n, NaN]), '[["$lunora.wire$","bigint","1"],["$lunora.wire$","nan"]]');
 * ```
 */
export function stringifyWire(value: unknown): string {
  return JSON.stringify(encodeWire(value));
}

/**
 * `decodeWire(JSON.parse(text))`.
 *
 * @param text Wire JSON text.
 * @returns The decoded value.
 * @throws {SyntaxError} When `text` is not JSON.
 * @throws {TypeError} As {@linkcode decodeWire}.
 * @throws {RangeError} As {@linkcode decodeWire}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWire } from "./codec.ts";
 *
 * assert.deepEqual(parseWire('{"ids":["$lunora.wire$","set",[1,2]]}'), { ids: new Set([1, 2]) });
 * ```
 */
export function parseWire(text: string): unknown {
  return decodeWire(JSON.parse(text));
}
