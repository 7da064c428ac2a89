// What a composed worker's bundle takes from `@lunora/astro`: `withLunora` and what it imports
// (the build-time integration is tree-shaken away).
export { withLunora } from "../../mod.ts";
