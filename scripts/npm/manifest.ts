/**
 * The npm package.json of `@lunora/astro`, built from deno.json, the emitted dependencies and
 * the module doc of the root entry (its first paragraph is the package description).
 *
 * @module
 */
import { dependencyRange, type NpmReference } from "./specifiers.ts";

/** Directory of the emitted JavaScript and declarations inside the package. */
export const ESM_DIR = "esm";

/**
 * Peers, never bundled or depended on: only the host Astro app installs astro, and the package
 * type-checks without it (its Astro types are structural), so the peer is optional.
 */
export const PEER_DEPENDENCIES: Readonly<Record<string, string>> = {
  astro: "^6.0.0 || ^7.0.0",
};

const KEYWORDS = [
  "astro",
  "astro-integration",
  "withastro",
  "cloudflare",
  "cloudflare-workers",
  "durable-objects",
  "lunora",
  "realtime",
  "websocket",
];

/** Inputs of {@linkcode packageManifest}. */
export interface ManifestInput {
  name: string;
  version: string;
  description: string;
  license: string;
  /** deno.json "exports": subpath → source file (`"./server": "./server.ts"`). */
  exports: Readonly<Record<string, string>>;
  /** npm packages the emitted JavaScript imports. */
  runtimePackages: Iterable<NpmReference>;
  /** `git+https://…` URL of the repository, when known. */
  repository?: string;
}

/**
 * The package.json object: ESM only, `types` + `import` per subpath, no side effects, Node ≥ 20
 * (global `crypto`, `Request`, `Response`; the version the tests run on), astro as an optional
 * peer, and a dependency for each package the emitted code imports (peers excluded).
 */
export function packageManifest(input: ManifestInput): Record<string, unknown> {
  const exports: Record<string, unknown> = {};
  for (const [subpath, source] of Object.entries(input.exports)) {
    const base = `./${ESM_DIR}/${source.replace(/^\.\//, "").replace(/\.(m|c)?tsx?$/, "")}`;
    exports[subpath] = { types: `${base}.d.ts`, import: `${base}.js` };
  }
  exports["./package.json"] = "./package.json";
  const dependencies: Record<string, string> = {};
  for (const pkg of [...input.runtimePackages].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!(pkg.name in PEER_DEPENDENCIES)) dependencies[pkg.name] = dependencyRange(pkg);
  }
  const optionalPeers = Object.fromEntries(
    Object.keys(PEER_DEPENDENCIES).map((name) => [name, { optional: true }]),
  );
  return {
    name: input.name,
    version: input.version,
    description: input.description,
    keywords: KEYWORDS,
    license: input.license,
    ...(input.repository ? { repository: { type: "git", url: input.repository } } : {}),
    type: "module",
    sideEffects: false,
    exports,
    files: [`${ESM_DIR}/`],
    engines: { node: ">=20" },
    ...(Object.keys(dependencies).length > 0 ? { dependencies } : {}),
    peerDependencies: PEER_DEPENDENCIES,
    peerDependenciesMeta: optionalPeers,
  };
}

/**
 * A one-sentence package description from a module doc: its first paragraph, without a leading
 * "`name`: " label or Markdown code marks, capitalised and ending in a period.
 *
 * @throws {TypeError} When the module doc is empty.
 */
export function descriptionFromModuleDoc(doc: string): string {
  const paragraph = doc.trim().split(/\n\s*\n/)[0] ?? "";
  const text = paragraph
    .replace(/^`[^`]+`\s*:\s*/, "")
    .replaceAll("`", "")
    .replace(/\s+/g, " ")
    .trim();
  if (text === "") throw new TypeError("Cannot describe the package: the module doc is empty");
  const sentence = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** Semantic version, as npm accepts it. */
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Checks a version given on the command line.
 *
 * @throws {TypeError} When it is not a semantic version such as `1.2.3` or `1.2.3-rc.1`.
 */
export function checkVersion(version: string): string {
  if (!SEMVER.test(version)) {
    throw new TypeError(
      `Invalid version "${version}": expected a semantic version such as 1.2.3 or 1.2.3-rc.1`,
    );
  }
  return version;
}
