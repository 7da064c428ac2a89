/**
 * `usePreloadedQuery(preloaded)`: the React side of a preloaded query. The first render (on the
 * server and in the browser's hydration alike) shows the token's value, with no fetch; after
 * hydration it subscribes over `/_lunora/ws` and re-renders with every push.
 */
import type { Preloaded } from "@lunora/astro/server";
import { useEffect, useState } from "react";
import { initialState, type LiveOptions, type LiveState, subscribeLive } from "./live_query.ts";

/**
 * The token's value, then the live one. `options.apiUrl` is the Lunora API's origin (default:
 * the page's). The token is expected to stay the same object for the component's life (an
 * island's props do).
 */
export function usePreloadedQuery<T>(
  preloaded: Preloaded<T>,
  options: Pick<LiveOptions, "apiUrl"> = {},
): LiveState<T> {
  const [state, setState] = useState(() => initialState(preloaded));
  const { apiUrl } = options;
  useEffect(() => subscribeLive(preloaded, setState, { apiUrl }), [
    preloaded,
    apiUrl,
  ]);
  return state;
}
