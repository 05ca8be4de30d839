#!/usr/bin/env bash
# Runs a command on a private virtual X display with a window manager (keyboard focus follows
# clicks only with one), then tears both down. Uses the current display if QUARTERDECK_USE_DISPLAY=1.
set -euo pipefail
if [ "${QUARTERDECK_USE_DISPLAY:-0}" = 1 ] && [ -n "${DISPLAY:-}" ]; then exec "$@"; fi

workdir=$(mktemp -d /tmp/quarterdeck-x.XXXXXX)
export XAUTHORITY="$workdir/Xauthority"
num=$(( ( $$ % 400 ) + 100 ))
while [ -e "/tmp/.X${num}-lock" ] || [ -e "/tmp/.X11-unix/X${num}" ]; do num=$((num + 1)); done
xauth -f "$XAUTHORITY" add ":$num" . "$(mcookie)" >/dev/null 2>&1
Xvfb ":$num" -screen 0 1920x1080x24 -nolisten tcp -auth "$XAUTHORITY" >"$workdir/xvfb.log" 2>&1 &
xvfb_pid=$!
cleanup() {
  [ -n "${wm_pid:-}" ] && kill "$wm_pid" 2>/dev/null || true
  kill "$xvfb_pid" 2>/dev/null || true
  wait "$xvfb_pid" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM
export DISPLAY=":$num"
for _ in $(seq 1 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.05; done
xdpyinfo >/dev/null 2>&1 || { echo "with-xvfb: display :$num did not start" >&2; cat "$workdir/xvfb.log" >&2; exit 1; }
jwm >"$workdir/wm.log" 2>&1 &
wm_pid=$!
sleep 0.3
set +e
"$@" </dev/null
status=$?
exit $status
