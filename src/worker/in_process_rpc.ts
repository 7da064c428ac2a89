/**
 * Registers the request scope for a page request before Astro renders it, so a `/server`
 * client can reach the shard without an HTTP round trip to the worker's own URL, and record
 * its calls for the page's `Server-Timing`.
 *
 * @module
 */
import {
  type InProcessCall,
  type RequestScope,
  type ServerCallRecord,
  setRequestScope,
  type TrackedCall,
} from "../in_process_registry.ts";
import type { ExecutionContextLike } from "../types.ts";
import type { CompiledOptions } from "./compile_options.ts";
import { PlaneError, toErrorResponse } from "./errors.ts";
import { type CallIds, forwardCall, type ForwardMode, parseCall, parseJsonBody } from "./rpc.ts";
import { payloadTooLarge } from "./body.ts";

const encoder = new TextEncoder();
const NO_IDS: CallIds = Object.freeze({});
const QUERY_MODE: ForwardMode = Object.freeze({ idempotent: true, system: false, ids: NO_IDS });
const ACTION_MODE: ForwardMode = Object.freeze({ idempotent: false, system: false, ids: NO_IDS });
/** What a mutation id or client id must look like to ride in a header (as the client checks). */
const ID = /^[\x21-\x7e]{1,255}$/;

/**
 * How a call of the server client is forwarded. A query is retried on a `retryable` shard
 * error, a mutation too (its mutation id makes a repeat harmless), an action never. Only the
 * call's own ids ride along. A call of no known kind is forwarded like an action (no retry, no
 * ids); a mutation whose ids cannot be sent is a 400.
 */
function modeFor(call: InProcessCall | undefined): ForwardMode {
  if (call?.kind === "query") return QUERY_MODE;
  if (call?.kind !== "mutation") return ACTION_MODE;
  const { mutationId, clientId } = call;
  if (!isId(mutationId) || (clientId !== undefined && !isId(clientId))) {
    throw new PlaneError(400, "BAD_REQUEST", "Invalid mutation id or client id");
  }
  return { idempotent: false, system: false, ids: { mutationId, clientId } };
}

function isId(value: unknown): value is string {
  return typeof value === "string" && ID.test(value);
}

/**
 * One page invocation's scope: runs envelopes as the page request's caller and keeps the calls
 * the page's server clients recorded. A class, so registering it costs one object per page;
 * `calls` stays `undefined` until the first call finishes, so a page that makes none pays for
 * no array.
 */
export class PageScope<Env> implements RequestScope {
  /** The calls recorded so far, in the order they finished; `undefined` before the first. */
  calls: ServerCallRecord[] | undefined = undefined;
  readonly #request: Request;
  readonly #env: Env;
  readonly #compiled: CompiledOptions<Env>;

  constructor(request: Request, env: Env, compiled: CompiledOptions<Env>) {
    this.#request = request;
    this.#env = env;
    this.#compiled = compiled;
  }

  /**
   * Runs `envelope` as the page request's caller (its cookie and authorization,
   * `resolveIdentity`, the tenant gate, the body cap) and answers exactly what `/_lunora/rpc`
   * would, with the ids of the call itself instead of any the browser sent with the page.
   */
  async run(envelope: string, call: InProcessCall): Promise<Response> {
    const compiled = this.#compiled;
    try {
      // A UTF-16 code unit is at most 3 UTF-8 bytes: most envelopes need no byte count.
      if (
        envelope.length * 3 > compiled.maxBodyBytes &&
        encoder.encode(envelope).byteLength > compiled.maxBodyBytes
      ) throw payloadTooLarge();
      const mode = modeFor(call);
      const parsed = parseCall(parseJsonBody(envelope), compiled.defaultShardKey);
      return await forwardCall(compiled, this.#env, this.#request, parsed, mode);
    } catch (error) {
      return toErrorResponse(error);
    }
  }

  /** Times `result` from now and records the call when it settles. */
  track<T>(result: Promise<T>, ...call: TrackedCall): Promise<T> {
    const [functionPath, kind, shardKey, inProcess] = call;
    const started = performance.now();
    const record = (outcome: string) =>
      (this.calls ??= []).push({
        functionPath,
        kind,
        shardKey,
        durationMs: performance.now() - started,
        via: inProcess ? "in-process" : "http",
        outcome,
      });
    return result.then((value) => {
      record("ok");
      return value;
    }, (error) => {
      record(String((error as { code?: unknown } | null)?.code ?? "INTERNAL"));
      throw error;
    });
  }
}

/**
 * Makes `/_lunora/rpc` reachable from the page rendering for `request`, and a record of its
 * server calls: registers a {@linkcode PageScope} under the request and its execution context.
 *
 * @returns The scope, whose `calls` the worker reads once Astro has answered.
 */
export function registerInProcess<Env>(
  request: Request,
  ctx: ExecutionContextLike,
  env: Env,
  compiled: CompiledOptions<Env>,
): PageScope<Env> {
  const scope = new PageScope(request, env, compiled);
  setRequestScope([request, ctx], scope);
  return scope;
}
