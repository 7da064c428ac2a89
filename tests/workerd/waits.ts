/**
 * How long the runs on workerd wait for what the system under test will do. These are bounds,
 * never assertions about speed: the machine may be shared with other builds, so a push, a page or
 * a log line can take many times longer than on a quiet machine. A check fails on what arrives
 * (or never does), not on when; a bound only keeps a broken run from hanging.
 *
 * @module
 */

/** For anything a running server will do: answer, push a frame, log a line, render a page. */
export const EVENTUALLY_MS = 60_000;

/** For a server to come up (`wrangler dev`, `astro dev`), building or optimizing first. */
export const STARTUP_MS = 180_000;
