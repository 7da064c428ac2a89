/**
 * Module specifiers as the npm build sees them: Deno writes `./x.ts`, `npm:name@1.2.3/sub` and
 * import-map names from deno.json "imports"; a published npm package needs `./x.js` and bare
 * `name/sub` with the version moved to package.json.
 *
 * @module
 */

/** An `npm:` specifier taken apart. */
export interface NpmReference {
  /** Package name, scope included (`@types/node`). */
  name: string;
  /** The version or range after `@`, if any. */
  version: string | undefined;
  /** `""` or a subpath starting with `/`. */
  subpath: string;
}

/** Where one import of the sources points once it is published on npm. */
export type MappedSpecifier =
  | { kind: "relative"; specifier: string }
  | { kind: "node"; specifier: string }
  | { kind: "npm"; specifier: string; package: NpmReference };

const NPM_SPECIFIER = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?(\/.*)?$/;
const TS_EXTENSION = /\.(m|c)?tsx?$/;

/** Parses `npm:name@version/subpath`; `undefined` when `specifier` is not an npm specifier. */
export function parseNpmSpecifier(specifier: string): NpmReference | undefined {
  const match = NPM_SPECIFIER.exec(specifier);
  if (!match) return undefined;
  return { name: match[1]!, version: match[2], subpath: match[3] ?? "" };
}

/** Whether `specifier` is a relative path (`./x`, `../x`). */
export function isRelative(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../");
}

/** `./x.ts` → `./x.js` (`.mts` → `.mjs`, `.cts` → `.cjs`); other paths unchanged. */
export function toJsExtension(specifier: string): string {
  return specifier.replace(TS_EXTENSION, (_, kind: string | undefined) => `.${kind ?? ""}js`);
}

/**
 * Maps one specifier of the Deno sources to its npm form.
 *
 * @param specifier The specifier as written in the source.
 * @param imports deno.json "imports".
 * @returns The npm form and, for packages, the package it needs.
 * @throws {TypeError} When the specifier has no npm form (`jsr:`, URLs, unknown bare names,
 * import-map entries that point at files).
 */
export function mapSpecifier(
  specifier: string,
  imports: Readonly<Record<string, string>>,
): MappedSpecifier {
  if (isRelative(specifier)) return { kind: "relative", specifier: toJsExtension(specifier) };
  if (specifier.startsWith("node:")) return { kind: "node", specifier };
  const npm = parseNpmSpecifier(specifier);
  if (npm) return { kind: "npm", specifier: npm.name + npm.subpath, package: npm };
  const target = lookUpImportMap(specifier, imports);
  if (target !== undefined) {
    if (target.startsWith("npm:") || target.startsWith("node:")) {
      return mapSpecifier(target, imports);
    }
    throw new TypeError(
      `Cannot map import "${specifier}" to npm: deno.json maps it to "${target}", which is not an "npm:" or "node:" specifier`,
    );
  }
  throw new TypeError(
    `Cannot map import "${specifier}" to npm: not a relative path, a "node:" module, an "npm:" specifier or a deno.json import`,
  );
}

/** Import-map lookup: an exact key, a `key/` prefix, or a subpath of an `npm:` entry. */
function lookUpImportMap(
  specifier: string,
  imports: Readonly<Record<string, string>>,
): string | undefined {
  const exact = imports[specifier];
  if (exact !== undefined) return exact;
  let best: string | undefined;
  for (const key of Object.keys(imports)) {
    const prefix = key.endsWith("/") ? key : `${key}/`;
    const npmEntry = !key.endsWith("/") && imports[key]!.startsWith("npm:");
    if (!specifier.startsWith(prefix) || (!key.endsWith("/") && !npmEntry)) continue;
    if (best === undefined || key.length > best.length) best = key;
  }
  if (best === undefined) return undefined;
  const target = imports[best]!;
  const rest = specifier.slice(best.endsWith("/") ? best.length : best.length + 1);
  return best.endsWith("/") ? target + rest : `${target}/${rest}`;
}

/**
 * The package.json range for a pinned version: an exact `1.2.3` becomes `^1.2.3` (the tested
 * version and compatible updates); a range is kept.
 *
 * @throws {TypeError} When the import has no version: every npm import must be pinned.
 */
export function dependencyRange(reference: NpmReference): string {
  const version = reference.version;
  if (version === undefined || version === "" || version === "latest") {
    throw new TypeError(
      `Cannot depend on "${reference.name}": pin its version in deno.json "imports"`,
    );
  }
  return /^\d+\.\d+\.\d+$/.test(version) ? `^${version}` : version;
}
