#!/usr/bin/env bash
# The README's one command to run the example chat locally on workerd:
#
#   bash scripts/run_example.sh                 # examples/chat (Astro 7 + @astrojs/cloudflare 14)
#   bash scripts/run_example.sh --astro6        # the same app on Astro 6 + @astrojs/cloudflare 13
#   bash scripts/run_example.sh --dev           # `astro dev` instead: edit and reload, no build
#   bash scripts/run_example.sh --dev --astro6  # both
#
# Installs what it needs (Deno and Node 22 from npm into .tools/), builds and packs this package
# (deno task build:npm -> .out/lunora-astro.tgz, skipped while newer than every source), installs
# the app's locked dependencies plus that tarball, writes a local BETTER_AUTH_SECRET to .dev.vars
# (once) and applies the D1 migrations to the app's .wrangler/state. Then, by default, it runs
# `astro build` and serves the built worker with `wrangler dev`; with --dev it runs `astro dev`
# (the same worker in workerd through the adapter's Vite plugin, state in the same
# .wrangler/state). Either way on http://127.0.0.1:${PORT:-8787}. Offline apart from npm.
# Ctrl-C stops it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
port="${PORT:-8787}"
app="examples/chat"
mode="build"
for arg in "$@"; do
  case "$arg" in
    --astro6) app="examples/chat-astro6" ;;
    --dev) mode="dev" ;;
    *)
      echo "usage: bash scripts/run_example.sh [--astro6] [--dev]" >&2
      exit 2
      ;;
  esac
done
if [ "$app" = "examples/chat-astro6" ]; then
  # chat-astro6 has its own package.json and lock; the sources are chat's.
  for shared in src astro.config.mjs wrangler.jsonc tsconfig.json; do
    rm -rf "${app:?}/$shared"
    cp -R "examples/chat/$shared" "$app/$shared"
  done
fi

export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false ASTRO_TELEMETRY_DISABLED=1
deno_bin="$(bash scripts/ensure_deno.sh)"
node_bin="$(bash scripts/ensure_node22.sh)"
export PATH="$node_bin:$(dirname "$deno_bin"):$PATH"

tarball=".out/lunora-astro.tgz"
sources=(mod.ts server.ts middleware.ts toolbar.ts deno.json src README.md LICENSE scripts/build_npm.ts scripts/npm)
if [ -f "$tarball" ] && [ -z "$(find "${sources[@]}" -newer "$tarball" -print -quit 2>/dev/null)" ]; then
  echo "==> $tarball is newer than every source: not rebuilding"
else
  echo "==> Building and packing the npm package (deno task build:npm)"
  mkdir -p .out
  marker="$(mktemp .out/.build-started.XXXXXX)"
  if ! deno task build:npm; then
    if [ -f "$tarball" ] && [ "$tarball" -nt "$marker" ]; then
      echo "==> WARNING: build:npm reported failed checks; running the example with its fresh tarball" >&2
    else
      rm -f "$marker"
      echo "==> build:npm failed and wrote no tarball" >&2
      exit 1
    fi
  fi
  rm -f "$marker"
fi

cd "$app"
echo "==> Installing $app (package-lock.json + $tarball)"
# --no-save keeps the committed lock as it is; removing the old copy makes npm unpack the tarball.
rm -rf node_modules/@lunora
npm install --no-save --no-audit --no-fund --loglevel=error
# better-auth signs sessions with BETTER_AUTH_SECRET: make a local one once (.dev.vars is
# git-ignored; astro build copies it next to the built worker).
if ! grep -qs '^BETTER_AUTH_SECRET=' .dev.vars; then
  echo "==> Writing a random BETTER_AUTH_SECRET to $app/.dev.vars"
  echo "BETTER_AUTH_SECRET=$(node -e 'console.log(require("node:crypto").randomBytes(32).toString("hex"))')" >> .dev.vars
fi
# better-auth's users and sessions live in D1 (AUTH_DB). Both `wrangler dev` and `astro dev`
# (@cloudflare/vite-plugin, persistState default) keep local state in .wrangler/state, so one
# apply serves both; already applied migrations are skipped.
echo "==> D1 migrations (better-auth's users and sessions, into $app/.wrangler/state)"
node_modules/.bin/wrangler d1 migrations apply AUTH_DB --local
if [ "$mode" = "dev" ]; then
  echo
  echo "==> astro dev: open http://127.0.0.1:$port/channels/general (Ctrl-C stops it)"
  echo
  exec node_modules/.bin/astro dev --host 127.0.0.1 --port "$port"
fi
echo "==> astro build"
node_modules/.bin/astro build
echo
echo "==> Open http://127.0.0.1:$port/channels/general (Ctrl-C stops the server)"
echo
exec node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port "$port" \
  --show-interactive-dev-session=false
