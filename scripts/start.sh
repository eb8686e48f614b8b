#!/usr/bin/env bash
# `npm start`: installs what is missing, starts berthd (as root, on /run/berth/berthd.sock) unless
# one already answers, then opens the app: Electron when it is installed, else web mode in the
# browser (`berth web`). Ctrl-C stops the app; berthd keeps running (stop it with `kill -TERM`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SOCK=${BERTH_SOCKET:-/run/berth/berthd.sock}
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
if ! curl -sf --unix-socket "$SOCK" http://berthd/_ping >/dev/null 2>&1; then
  $SUDO mkdir -p /var/log/berth
  echo "start: starting berthd on unix://$SOCK (log: /var/log/berth/berthd.log)" >&2
  $SUDO sh -c "setsid '$PWD/bin/berthd' -H 'unix://$SOCK' >>/var/log/berth/berthd.log 2>&1 </dev/null &"
  for _ in $(seq 1 100); do curl -sf --unix-socket "$SOCK" http://berthd/_ping >/dev/null 2>&1 && break; sleep 0.1; done
  curl -sf --unix-socket "$SOCK" http://berthd/_ping >/dev/null || { echo "start: berthd did not start; see /var/log/berth/berthd.log" >&2; tail -20 /var/log/berth/berthd.log >&2; exit 1; }
fi
echo "start: berthd is up. Use it with: export DOCKER_HOST=unix://$SOCK" >&2
exec bin/berth web --engine "unix://$SOCK" "$@"
