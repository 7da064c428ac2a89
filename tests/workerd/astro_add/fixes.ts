/**
 * The `lunora()` integration's warnings as `astro build` prints them, and applying their fixes
 * the way a user would: create the file a fix shows whole, merge a wrangler fragment or a single
 * `"key": value` line into the existing `wrangler.jsonc` (comments kept).
 *
 * @module
 */
import { applyEdits, modify, parse, type ParseError } from "jsonc-parser";
import { dirname, join } from "node:path";
import { assert } from "../report.ts";

/** One warning the integration printed. */
export interface Warning {
  /** The sentence before the fix: what is wrong and what to do. */
  problem: string;
  /** The copy-pasteable fix after the blank line. */
  fix: string;
}

/** A line Astro's logger starts: `HH:MM:SS [WARN] [name] text` or `HH:MM:SS [name] text`. */
const LOG_LINE = /^\d\d:\d\d:\d\d (?:\[\w+\] )?\[([^\]]+)\] ?(.*)$/;

/** Every message `[@lunora/astro]` printed in `output`, each with the lines that continue it. */
export function lunoraMessages(output: string): string[] {
  const messages: string[] = [];
  let current: string[] | undefined;
  for (const line of output.split("\n")) {
    const start = LOG_LINE.exec(line);
    if (start) {
      current = start[1] === "@lunora/astro" ? [start[2]!] : undefined;
      if (current) messages.push("");
    } else if (line.startsWith("$ ")) {
      current = undefined;
    } else if (current) {
      current.push(line);
    }
    if (current) messages[messages.length - 1] = current.join("\n").trimEnd();
  }
  return messages;
}

/** A message split into its problem and its fix (empty when it carries none). */
export function splitWarning(message: string): Warning {
  const gap = message.indexOf("\n\n");
  if (gap < 0) return { problem: message, fix: "" };
  return { problem: message.slice(0, gap), fix: message.slice(gap + 2) };
}

function parseJsonc(text: string, what: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true });
  assert(
    errors.length === 0 && typeof value === "object" && value !== null,
    `${what} is not JSONC`,
  );
  return value as Record<string, unknown>;
}

/** Sets each top-level key of `fragment` in the JSONC file at `path`, keeping its comments. */
export function mergeJsonc(path: string, fragment: Record<string, unknown>): void {
  let text = Deno.readTextFileSync(path);
  for (const [key, value] of Object.entries(fragment)) {
    const edits = modify(text, [key], value, {
      formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" },
    });
    text = applyEdits(text, edits);
  }
  Deno.writeTextFileSync(path, text);
}

/**
 * Applies one warning's fix in the project at `appDir`; returns what it did:
 * - a fix whose first line is a `// <file>` comment naming a file that does not exist yet is
 *   that file's whole content;
 * - one naming an existing `.json`/`.jsonc` file is a fragment whose top-level keys are set in it;
 * - a single `"key": value,` line is set in the JSON(C) file the problem starts with.
 */
export function applyFix(appDir: string, warning: Warning): string {
  const { problem, fix } = warning;
  const named = /^\/\/ (\S+)\n/.exec(fix);
  if (named) {
    const file = named[1]!;
    const path = join(appDir, file);
    if (!exists(path)) {
      Deno.mkdirSync(dirname(path), { recursive: true });
      Deno.writeTextFileSync(path, `${fix}\n`);
      return `created ${file}`;
    }
    assert(/\.jsonc?$/.test(file), `a fix shows ${file} whole, but the project already has it`);
    const fragment = parseJsonc(fix.slice(named[0].length), `the fix for ${file}`);
    mergeJsonc(path, fragment);
    return `set ${Object.keys(fragment).join(", ")} in ${file}`;
  }
  const file = /^(\S+\.jsonc?) /.exec(problem)?.[1];
  if (file && /^"[^"]+":/.test(fix) && !fix.includes("\n")) {
    const fragment = parseJsonc(`{${fix.replace(/,\s*$/, "")}}`, `the line ${fix}`);
    mergeJsonc(join(appDir, file), fragment);
    return `set ${Object.keys(fragment).join(", ")} in ${file}`;
  }
  throw new Error(`cannot tell how to apply this fix:\n${problem}\n\n${fix}`);
}

/**
 * Follows a warning's "export the <Class> class from <file>" instruction, if it has one: the
 * class's module (`classSource`, the user's own code) goes next to `<file>` as `moduleName`, and
 * `<file>` re-exports the class from it. Returns what it did, or `undefined` when the warning
 * asks for no export.
 */
export function exportClass(
  appDir: string,
  warning: Warning,
  classSource: string,
  moduleName: string,
): string | undefined {
  const asked = /export the (\w+) class from (\S+?):?$/.exec(warning.problem);
  if (!asked) return undefined;
  const [, className, file] = asked as unknown as [string, string, string];
  assert(
    new RegExp(`export class ${className}\\b`).test(Deno.readTextFileSync(classSource)),
    `${classSource} does not define the ${className} class the fix asks for`,
  );
  const entry = join(appDir, file);
  Deno.copyFileSync(classSource, join(dirname(entry), moduleName));
  const line = `export { ${className} } from "./${moduleName}";`;
  Deno.writeTextFileSync(entry, `${Deno.readTextFileSync(entry)}\n${line}\n`);
  return `exported ${className} from ${file} (${moduleName})`;
}

/**
 * Follows a warning's "Create <file> with your "a", "b" and the lines below" instruction, if it
 * has one: sets those keys in `<file>` (which the fix created) from `values`, the user's own.
 * Returns what it did, or `undefined` when the warning asks for no values.
 */
export function fillUserValues(
  appDir: string,
  warning: Warning,
  values: Record<string, unknown>,
): string | undefined {
  const asked = /Create (\S+) with your (.+?) and the lines below/.exec(warning.problem);
  if (!asked) return undefined;
  const keys = [...asked[2]!.matchAll(/"(\w+)"/g)].map((match) => match[1]!);
  assert(keys.length > 0, `no keys in: ${warning.problem}`);
  const picked: Record<string, unknown> = {};
  for (const key of keys) {
    assert(key in values, `the user has no "${key}" to fill in`);
    picked[key] = values[key];
  }
  mergeJsonc(join(appDir, asked[1]!), picked);
  return `set ${keys.join(", ")} in ${asked[1]} (the user's values)`;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
