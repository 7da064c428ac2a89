/**
 * Finds a real `withLunora(` call in the source of the server entry, the Durable Object binding
 * it passes as `shardDO`, and the names the module exports.
 *
 * A small hand-written tokenizer rather than a parser from npm: the integration runs in the
 * user's Node at build time, so a parser would become a runtime dependency of the published
 * package (`typescript` is ~23 MB; `acorn` cannot read TypeScript syntax; `sucrase` brings seven
 * dependencies), while the question asked is narrow. The tokenizer knows just enough of
 * JavaScript/TypeScript lexical grammar to never mistake text for code: it skips line and block
 * comments, string literals, template literals (whose `${...}` substitutions are code and are
 * tokenized) and regular expression literals (told apart from division by the token before the
 * slash). A guess that goes wrong on odd code stays local: strings and regex literals never run
 * past the end of their line.
 *
 * @module
 */

/** What the scan found in an entry module. */
export interface EntryScan {
  /** Whether the code (not comments, strings or an import alone) calls `withLunora(`. */
  readonly callsWithLunora: boolean;
  /**
   * The binding name in a `shardDO: env.NAME` (or `env["NAME"]`) property, when there is one:
   * the Durable Object binding the worker uses as its shard namespace.
   */
  readonly shardBinding: string | undefined;
  /** What the module exports, as far as its own text tells. */
  readonly exports: EntryExports;
}

/** The names a module exports (see {@linkcode scanEntry}). */
export interface EntryExports {
  /** The exported names the scan can list. */
  readonly names: ReadonlySet<string>;
  /**
   * Whether the module may export names beyond `names` that the scan cannot list: an
   * `export * from "…"` (whatever the other module exports), or a destructuring
   * `export const { … } = …`.
   */
  readonly unlisted: boolean;
}

/** Whether `exports` has `name` or may have it (unlisted exports). */
export function mayExport(exports: EntryExports, name: string): boolean {
  return exports.unlisted || exports.names.has(name);
}

type TokenType = "name" | "punct" | "literal";

interface Token {
  readonly type: TokenType;
  readonly text: string;
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_KEYWORD = new Set([
  "await",
  "case",
  "delete",
  "do",
  "else",
  "in",
  "instanceof",
  "new",
  "of",
  "return",
  "throw",
  "typeof",
  "void",
  "yield",
]);

function isIdentStart(ch: string): boolean {
  return /[A-Za-z_$\\]/.test(ch) || ch.charCodeAt(0) > 0x7f;
}

function isIdentPart(ch: string): boolean {
  return /[A-Za-z0-9_$\\]/.test(ch) || ch.charCodeAt(0) > 0x7f;
}

function isLineEnd(ch: string | undefined): boolean {
  return ch === "\n" || ch === "\r" || ch === "\u2028" || ch === "\u2029";
}

function regexAllowedAfter(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.type === "literal") return false;
  if (prev.type === "name") return REGEX_AFTER_KEYWORD.has(prev.text);
  return prev.text !== ")" && prev.text !== "]" && prev.text !== "}";
}

/**
 * Splits `source` into name, punctuation and literal tokens; comments and whitespace are
 * dropped, and each string, template chunk, number or regex literal becomes one opaque literal
 * token (a string keeps its quotes so its value can be read back).
 */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // One entry per open `{`: true when it is a template literal's `${`.
  const braces: boolean[] = [];
  let i = source.startsWith("#!") ? source.indexOf("\n") : 0;
  if (i < 0) return tokens;
  const n = source.length;

  const push = (type: TokenType, text: string) => void tokens.push({ type, text });

  /** Reads template characters from `i` (just past "`" or `}`) to the closing "`" or `${`. */
  const templateChunk = () => {
    while (i < n) {
      const ch = source[i]!;
      if (ch === "\\") {
        i += 2;
      } else if (ch === "`") {
        i++;
        push("literal", "`");
        return;
      } else if (ch === "$" && source[i + 1] === "{") {
        i += 2;
        braces.push(true);
        push("punct", "${");
        return;
      } else {
        i++;
      }
    }
  };

  /** Reads a quoted string from `i` (at the quote); it ends at its quote or its line's end. */
  const quoted = () => {
    const quote = source[i]!;
    const start = i++;
    while (i < n && source[i] !== quote && !isLineEnd(source[i])) {
      i += source[i] === "\\" ? 2 : 1;
    }
    if (source[i] === quote) i++;
    push("literal", source.slice(start, i));
  };

  /** Reads a regex literal from `i` (at `/`); false, with `i` unchanged, if it is not one. */
  const regex = (): boolean => {
    let j = i + 1;
    let inClass = false;
    while (j < n && !isLineEnd(source[j])) {
      const ch = source[j]!;
      if (ch === "\\") {
        j += 2;
        continue;
      }
      if (ch === "[") inClass = true;
      else if (ch === "]") inClass = false;
      else if (ch === "/" && !inClass) {
        j++;
        while (j < n && isIdentPart(source[j]!)) j++;
        push("literal", source.slice(i, j));
        i = j;
        return true;
      }
      j++;
    }
    return false;
  };

  while (i < n) {
    const ch = source[i]!;
    const next = source[i + 1];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "/" && next === "/") {
      while (i < n && !isLineEnd(source[i])) i++;
    } else if (ch === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (ch === "'" || ch === '"') {
      quoted();
    } else if (ch === "`") {
      i++;
      templateChunk();
    } else if (ch === "{") {
      i++;
      braces.push(false);
      push("punct", "{");
    } else if (ch === "}") {
      i++;
      if (braces.pop() === true) templateChunk();
      else push("punct", "}");
    } else if (isIdentStart(ch)) {
      const start = i++;
      while (i < n && isIdentPart(source[i]!)) i++;
      push("name", source.slice(start, i));
    } else if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(next ?? ""))) {
      const start = i++;
      while (i < n && /[0-9A-Za-z_.]/.test(source[i]!)) {
        const exponent = /[eE]/.test(source[i]!) && /[+-]/.test(source[i + 1] ?? "");
        i += exponent ? 2 : 1;
      }
      push("literal", source.slice(start, i));
    } else if (ch === "/" && regexAllowedAfter(tokens.at(-1)) && regex()) {
      // The regex literal was pushed by regex().
    } else {
      i++;
      push("punct", ch);
    }
  }
  return tokens;
}

/** The value of a simple string literal token, or undefined. */
function stringValue(token: Token | undefined): string | undefined {
  if (token?.type !== "literal") return undefined;
  const match = /^(["'])([A-Za-z_$][\w$]*)\1$/.exec(token.text);
  return match?.[2];
}

/** Index just past the type arguments starting at `at` (a `<`), or -1 if they do not close. */
function skipTypeArguments(tokens: readonly Token[], at: number): number {
  let depth = 0;
  for (let k = at; k < tokens.length; k++) {
    const text = tokens[k]!.text;
    if (text === "<") depth++;
    else if (text === ">") depth--;
    else if (text === ";" || text === "{" || text === "}") return -1;
    if (depth === 0) return k + 1;
  }
  return -1;
}

/** Whether `tokens[at]` (a callee name) is followed by a call's `(`. */
function isCalled(tokens: readonly Token[], at: number): boolean {
  let k = at + 1;
  if (tokens[k]?.text === "<") k = skipTypeArguments(tokens, k);
  if (k < 0) return false;
  if (tokens[k]?.text === "?" && tokens[k + 1]?.text === ".") k += 2;
  return tokens[k]?.text === "(";
}

/** The name a module export specifier stands for: a name, or a string literal of one. */
function exportName(token: Token | undefined): string | undefined {
  return token?.type === "name" ? token.text : stringValue(token);
}

/** Keywords that start a declaration whose name follows (`export class X`, …). */
const DECLARATION = new Set(["class", "function", "const", "let", "var", "enum"]);

/** Keywords that may stand between `export` and a declaration. */
const MODIFIERS = new Set(["abstract", "async", "declare"]);

/** Keywords that end the comma-separated declarators of an `export const`. */
const STATEMENT_START = new Set(["export", "import", "class", "function", "const", "let", "var"]);

/**
 * Reads the export statement whose `export` keyword is `tokens[at]` into `names`; returns true
 * when it exports names it cannot list. Type-only exports (`export type`, `export interface`,
 * `export { type X }`, `export declare …`) and `export default` export no value under a name.
 */
function readExport(tokens: readonly Token[], at: number, names: Set<string>): boolean {
  let k = at + 1;
  const first = tokens[k]?.text;
  if (first === "*") {
    if (tokens[k + 1]?.text !== "as") return true;
    const name = exportName(tokens[k + 2]);
    if (name !== undefined) names.add(name);
    return false;
  }
  if (first === "{") {
    for (k++; k < tokens.length && tokens[k]!.text !== "}";) {
      const typeOnly = tokens[k]!.text === "type" && tokens[k + 1]?.text !== "," &&
        tokens[k + 1]?.text !== "}" && tokens[k + 1]?.text !== "as";
      if (typeOnly) k++;
      const local = exportName(tokens[k]);
      let exported = local;
      k++;
      if (tokens[k]?.text === "as") {
        exported = exportName(tokens[k + 1]);
        k += 2;
      }
      if (!typeOnly && exported !== undefined) names.add(exported);
      while (k < tokens.length && tokens[k]!.text !== "," && tokens[k]!.text !== "}") k++;
      if (tokens[k]?.text === ",") k++;
    }
    return false;
  }
  let declare = false;
  while (MODIFIERS.has(tokens[k]?.text ?? "")) declare ||= tokens[k++]!.text === "declare";
  const keyword = tokens[k]?.text;
  if (declare || keyword === undefined || !DECLARATION.has(keyword)) return false;
  k++;
  if (keyword === "const" && tokens[k]?.text === "enum") k++;
  if (tokens[k]?.text === "*") k++; // function*
  if (tokens[k]?.text === "{" || tokens[k]?.text === "[") return true; // destructuring
  if (tokens[k]?.type !== "name") return false;
  names.add(tokens[k]!.text);
  if (keyword !== "const" && keyword !== "let" && keyword !== "var") return false;
  // `export const a = 1, b = 2`: each name after a comma outside brackets, up to the statement's
  // end. Without a `;` the scan may run into the next statement and list a name too many, which
  // only ever suppresses a warning.
  let depth = 0;
  for (k++; k < tokens.length; k++) {
    const text = tokens[k]!.text;
    if (text === "(" || text === "[" || text === "{") depth++;
    else if (text === ")" || text === "]" || text === "}") depth--;
    else if (depth === 0 && (text === ";" || STATEMENT_START.has(text))) break;
    else if (depth === 0 && text === ",") {
      const next = tokens[k + 1];
      if (next?.text === "{" || next?.text === "[") return true;
      if (next?.type === "name") names.add(next.text);
    }
    if (depth < 0) break;
  }
  return false;
}

/**
 * Scans the source of a server entry module.
 *
 * A call counts when the name `withLunora` (or a local alias from
 * `import { withLunora as alias }`) is followed by `(`, optionally after type arguments or `?.`,
 * and is not the name in a function declaration. Comments, strings, template text, regex
 * literals and an import alone never count.
 *
 * Exports are read from top-level `export` statements (outside any braces, so not from a
 * TypeScript `namespace`): `export { A, B as C }` with or without `from`, `export * as D from`,
 * and `export class`/`function`/`const`/`let`/`var`/`enum` declarations. An `export * from` or a
 * destructuring `export const { … }` marks the exports as not all listed.
 *
 * @param source The module's source text (TypeScript or JavaScript).
 * @returns Whether it calls `withLunora`, the `shardDO` binding name when one is visible, and
 * what the module exports.
 */
export function scanEntry(source: string): EntryScan {
  const tokens = tokenize(source);
  const callees = new Set(["withLunora"]);
  for (let k = 0; k + 2 < tokens.length; k++) {
    if (tokens[k]!.text === "withLunora" && tokens[k + 1]!.text === "as") {
      const alias = tokens[k + 2]!;
      if (alias.type === "name") callees.add(alias.text);
    }
  }

  let callsWithLunora = false;
  let shardBinding: string | undefined;
  const names = new Set<string>();
  let unlisted = false;
  let depth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]!;
    if (token.text === "{" && token.type === "punct") depth++;
    else if (token.text === "}" && token.type === "punct") depth = Math.max(0, depth - 1);
    if (token.type !== "name") continue;
    if (token.text === "export" && depth === 0 && tokens[k - 1]?.text !== ".") {
      unlisted = readExport(tokens, k, names) || unlisted;
    }
    if (
      !callsWithLunora && callees.has(token.text) && tokens[k - 1]?.text !== "function" &&
      isCalled(tokens, k)
    ) {
      callsWithLunora = true;
    }
    if (
      shardBinding === undefined && token.text === "shardDO" && tokens[k + 1]?.text === ":" &&
      tokens[k + 2]?.type === "name"
    ) {
      const access = tokens[k + 3]?.text;
      if (access === "." && tokens[k + 4]?.type === "name") shardBinding = tokens[k + 4]!.text;
      else if (access === "[" && tokens[k + 5]?.text === "]") {
        shardBinding = stringValue(tokens[k + 4]);
      }
    }
  }
  return { callsWithLunora, shardBinding, exports: { names, unlisted } };
}
