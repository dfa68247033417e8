#!/usr/bin/env bash
# Serves the browser demo (after scripts/build-web.sh) on http://127.0.0.1:PORT/ (default
# 8000), bound to the loopback interface only.
#
#   scripts/serve-web.sh [PORT]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${1:-8000}"
if [ ! -f "$ROOT/web-demo/pkg/spar_web_demo_bg.wasm" ]; then
  echo "serve-web: web-demo/pkg is missing: run scripts/build-web.sh first" >&2
  exit 1
fi
echo "serve-web: http://127.0.0.1:$PORT/"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$ROOT/web-demo"
