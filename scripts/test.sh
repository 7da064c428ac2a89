#!/usr/bin/env bash
# The README's test command: installs the pinned Deno from npm if needed, then runs every check
# (`deno task test`). Works on a fresh machine with only Node + npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DENO="$(bash scripts/ensure_deno.sh)"
export PATH="$(dirname "$DENO"):$PATH"
deno --version | head -n 1
exec deno task test "$@"
