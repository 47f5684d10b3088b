#!/usr/bin/env bash
# Puts Node 24 LTS first on PATH, installing it from the npm registry into a cache
# folder outside the repository when it is missing. Used by .ci/run and by developers:
#   source scripts/node24.sh
ONRAMP_NODE_CACHE="${ONRAMP_NODE_CACHE:-$HOME/.cache/onramp-node}"
onramp_node_bin="$ONRAMP_NODE_CACHE/node_modules/node/bin"
if ! "$onramp_node_bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  echo "Installing Node 24 into $ONRAMP_NODE_CACHE" >&2
  mkdir -p "$ONRAMP_NODE_CACHE"
  npm install --prefix "$ONRAMP_NODE_CACHE" --no-audit --no-fund --loglevel=error node@24 >&2 || return 1 2>/dev/null || exit 1
fi
case ":$PATH:" in
  *":$onramp_node_bin:"*) ;;
  *) export PATH="$onramp_node_bin:$PATH" ;;
esac
