#!/usr/bin/env bash
# Installs the pinned Deno from the npm registry into .tools/ (once) and prints its path.
# Deno is not on a fresh machine and JSR is unreachable here; npm ships the binary.
set -euo pipefail
DENO_VERSION="2.9.6"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.tools/deno-$DENO_VERSION"
bin="$dir/node_modules/@deno/linux-x64-glibc/deno"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "deno@$DENO_VERSION" >&2
fi
[ -x "$bin" ] || bin="$(find "$dir/node_modules" -type f -name deno -perm -u+x | head -n 1)"
echo "$bin"
