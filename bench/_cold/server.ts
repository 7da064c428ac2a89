// What a worker's bundle takes from `@lunora/astro/server`: all of it.
export * from "../../server.ts";
