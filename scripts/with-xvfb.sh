#!/usr/bin/env bash
# Runs a command on a private virtual X display with a window manager (keyboard focus follows
# clicks only with one), then tears both down. Uses the current display if QUARTERDECK_USE_DISPLAY=1.
set -euo pipefail
if [ "${QUARTERDECK_USE_DISPLAY:-0}" = 1 ] && [ -n "${DISPLAY:-}" ]; then exec "$@"; fi

workdir=$(mktemp -d /tmp/quarterdeck-x.XXXXXX)
export XAUTHORITY="$workdir/Xauthority"
cookie=$(mcookie)
# The server trusts every cookie in the file; Xvfb picks a free display itself (-displayfd),
# so parallel runs never race for a number.
xauth -f "$XAUTHORITY" add ":65000" . "$cookie" >/dev/null 2>&1
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -auth "$XAUTHORITY" \
  3>"$workdir/display" >"$workdir/xvfb.log" 2>&1 &
xvfb_pid=$!
cleanup() {
  [ -n "${wm_pid:-}" ] && kill "$wm_pid" 2>/dev/null || true
  kill "$xvfb_pid" 2>/dev/null || true
  wait "$xvfb_pid" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM
for _ in $(seq 1 200); do [ -s "$workdir/display" ] && break; sleep 0.05; done
num=$(head -n 1 "$workdir/display" 2>/dev/null || true)
if [ -z "$num" ]; then echo "with-xvfb: Xvfb did not start" >&2; cat "$workdir/xvfb.log" >&2; exit 1; fi
xauth -f "$XAUTHORITY" add ":$num" . "$cookie" >/dev/null 2>&1
export DISPLAY=":$num"
for _ in $(seq 1 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.05; done
xdpyinfo >/dev/null 2>&1 || { echo "with-xvfb: display :$num does not answer" >&2; exit 1; }
jwm >"$workdir/wm.log" 2>&1 &
wm_pid=$!
sleep 0.3
set +e
"$@" </dev/null
status=$?
exit $status
