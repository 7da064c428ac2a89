/**
 * Lunora's wire value codec, as the shard and the browser speak it: JSON, with the values JSON
 * cannot carry written as arrays tagged `"$lunora.wire$"` — `bigint`, NaN/±Infinity,
 * `undefined` in arrays, `Date`, `URL`, `Map`, `Set`, bytes and typed arrays, `Error`, and a
 * user array that itself starts with the tag. Pure JSON stays byte for byte the same.
 *
 * A real Lunora runtime ships its own; this one stands in for it, so the shard's RPC results
 * and pushes carry rich values that `@lunora/astro/server` decodes (`tests/example_wire_test.ts`
 * checks both codecs agree). Both directions stop at 64 levels; decoding is for untrusted input
 * (unknown tags stay plain arrays, `__proto__` keys become own data properties).
 */

/** The first element of every tagged array. */
export const TAG = "$lunora.wire$";
const MAX_DEPTH = 64;
const MAX_BIGINT_DIGITS = 1024;

const VIEWS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
const ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function define(
  target: object,
  key: string,
  value: unknown,
  enumerable = true,
): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable,
    configurable: true,
  });
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new TypeError("Malformed wire value: bytes are not base64");
  }
  const bytes = Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  if (toBase64(bytes) !== text) {
    throw new TypeError("Malformed wire value: bytes are not base64");
  }
  return bytes;
}

function tooDeep(): RangeError {
  return new RangeError(`Wire value is nested deeper than ${MAX_DEPTH} levels`);
}

/** Encodes `value` for `JSON.stringify`. Class instances and functions are a `TypeError`. */
export function encodeWire(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw tooDeep();
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isFinite(value)) return value;
      return [TAG, Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf"];
    case "bigint":
      return [TAG, "bigint", value.toString()];
    case "undefined":
      return [TAG, "undefined"];
    case "object":
      break;
    default:
      throw new TypeError(`Cannot encode a ${typeof value} as a wire value`);
  }
  if (value === null) return null;
  const next = depth + 1;
  if (Array.isArray(value)) {
    const items = value.map((item) => encodeWire(item, next));
    return items[0] === TAG ? [TAG, "arr", items] : items;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) define(out, key, encodeWire(item, next));
    }
    return out;
  }
  if (value instanceof Date) {
    return [TAG, "date", encodeWire(value.getTime(), next)];
  }
  if (value instanceof URL) return [TAG, "url", value.href];
  if (value instanceof Map) {
    return [
      TAG,
      "map",
      [...value].map(([k, v]) => [encodeWire(k, next), encodeWire(v, next)]),
    ];
  }
  if (value instanceof Set) {
    return [
      TAG,
      "set",
      [...value].map((item) => encodeWire(item, next)),
    ];
  }
  if (value instanceof ArrayBuffer) {
    return [TAG, "bytes", toBase64(new Uint8Array(value)), "ArrayBuffer"];
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const bytes = toBase64(
      new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
    );
    const name = value.constructor.name;
    return name === "Uint8Array" ? [TAG, "bytes", bytes] : [TAG, "bytes", bytes, name];
  }
  if (value instanceof Error) {
    const props: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key !== "stack" && item !== undefined) {
        define(props, key, encodeWire(item, next));
      }
    }
    const parts = [TAG, "error", value.name, value.message, props];
    return value.cause === undefined ? parts : [...parts, encodeWire(value.cause, next)];
  }
  throw new TypeError(
    `Cannot encode an instance of "${proto?.constructor?.name ?? "?"}" as a wire value`,
  );
}

/** Decodes a parsed wire value; malformed tags are a `TypeError` (sizes a `RangeError`). */
export function decodeWire(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw tooDeep();
  if (typeof value !== "object" || value === null) return value;
  const next = depth + 1;
  if (!Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      define(out, key, decodeWire(item, next));
    }
    return out;
  }
  if (value.length < 2 || value[0] !== TAG) {
    return value.map((item) => decodeWire(item, next));
  }
  const [, name, payload, extra] = value;
  const list = (): unknown[] => {
    if (!Array.isArray(payload)) {
      throw new TypeError(`Malformed wire value: "${name}" payload`);
    }
    return payload;
  };
  switch (name) {
    case "undefined":
      return undefined;
    case "nan":
      return NaN;
    case "inf":
      return Infinity;
    case "-inf":
      return -Infinity;
    case "bigint": {
      if (typeof payload !== "string" || !/^-?[0-9]+$/.test(payload)) {
        throw new TypeError("Malformed wire value: bigint digits");
      }
      if (payload.replace("-", "").length > MAX_BIGINT_DIGITS) {
        throw new RangeError(
          `Wire bigint has more than ${MAX_BIGINT_DIGITS} digits`,
        );
      }
      return BigInt(payload);
    }
    case "date": {
      const epoch = decodeWire(payload, next);
      if (typeof epoch !== "number") {
        throw new TypeError("Malformed wire value: date epoch");
      }
      return new Date(epoch);
    }
    case "url":
      if (typeof payload !== "string") {
        throw new TypeError("Malformed wire value: url");
      }
      return new URL(payload);
    case "map":
      return new Map(
        list().map((entry) => {
          if (!Array.isArray(entry) || entry.length !== 2) {
            throw new TypeError("Malformed wire value: map entry");
          }
          return [decodeWire(entry[0], next), decodeWire(entry[1], next)];
        }),
      );
    case "set":
      return new Set(list().map((item) => decodeWire(item, next)));
    case "arr":
      return list().map((item) => decodeWire(item, next));
    case "bytes": {
      if (typeof payload !== "string") {
        throw new TypeError("Malformed wire value: bytes");
      }
      const bytes = fromBase64(payload);
      if (extra === "ArrayBuffer") return bytes.buffer;
      const View = typeof extra === "string" && Object.hasOwn(VIEWS, extra) ? VIEWS[extra] : null;
      if (!View || View === Uint8Array) return bytes;
      const size = (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (bytes.length % size !== 0) {
        throw new RangeError(`Misaligned ${extra} bytes`);
      }
      return new View(bytes.buffer as ArrayBuffer);
    }
    case "error": {
      const [, , errorName, message, props, cause] = value;
      if (typeof errorName !== "string" || typeof message !== "string") {
        throw new TypeError("Malformed wire value: error name and message");
      }
      if (typeof props !== "object" || props === null || Array.isArray(props)) {
        throw new TypeError("Malformed wire value: error properties");
      }
      const Ctor = Object.hasOwn(ERRORS, errorName) ? ERRORS[errorName]! : Error;
      const error = new Ctor(message);
      if (Ctor === Error && errorName !== "Error") {
        define(error, "name", errorName, false);
      }
      for (const [key, item] of Object.entries(props)) {
        define(error, key, decodeWire(item, next));
      }
      if (value.length > 5) {
        const decoded = decodeWire(cause, next);
        if (decoded !== undefined) define(error, "cause", decoded, false);
      }
      return error;
    }
    default:
      // An unknown tag stays a plain array.
      return value.map((item) => decodeWire(item, next));
  }
}

/** `JSON.stringify` of the encoded value. */
export function stringifyWire(value: unknown): string {
  return JSON.stringify(encodeWire(value));
}

/** `JSON.parse`, then decode. */
export function parseWire(text: string): unknown {
  return decodeWire(JSON.parse(text));
}
