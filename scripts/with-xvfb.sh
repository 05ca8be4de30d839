#!/usr/bin/env bash
# Runs a command on a private virtual X display with a window manager (keyboard focus follows
# clicks only with one), then tears both down. Uses the current display if QUARTERDECK_USE_DISPLAY=1.
# QUARTERDECK_SCREEN=WxHxD picks another screen size (default 1920x1080x24).
# Where dbus-daemon and at-spi2-core are installed it also starts a private D-Bus session with an
# accessibility (AT-SPI) bus and registry, so apps such as Chromium expose their accessibility tree
# (DBUS_SESSION_BUS_ADDRESS is exported; the X root gets AT_SPI_BUS). A missing piece is skipped.
set -euo pipefail
if [ "${QUARTERDECK_USE_DISPLAY:-0}" = 1 ] && [ -n "${DISPLAY:-}" ]; then exec "$@"; fi

workdir=$(mktemp -d /tmp/quarterdeck-x.XXXXXX)
# A runtime folder of this session's own: the AT-SPI launcher keeps its bus socket there
# (at-spi/bus_<display>), so a session on a display number reused later cannot remove its socket
mkdir -m 700 "$workdir/run"
export XDG_RUNTIME_DIR="$workdir/run"
export XAUTHORITY="$workdir/Xauthority"
cookie=$(mcookie)
# The server trusts every cookie in the file; Xvfb picks a free display itself (-displayfd),
# so parallel runs never race for a number.
xauth -f "$XAUTHORITY" add ":65000" . "$cookie" >/dev/null 2>&1
Xvfb -displayfd 3 -screen 0 "${QUARTERDECK_SCREEN:-1920x1080x24}" -nolisten tcp -auth "$XAUTHORITY" \
  3>"$workdir/display" >"$workdir/xvfb.log" 2>&1 &
xvfb_pid=$!
cleanup() {
  for pid in ${registry_pid:-} ${a11y_pid:-} ${dbus_pid:-} ${wm_pid:-}; do kill "$pid" 2>/dev/null || true; done
  kill "$xvfb_pid" 2>/dev/null || true
  wait "$xvfb_pid" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM
for _ in $(seq 1 400); do [ -s "$workdir/display" ] && break; sleep 0.05; done
num=$(head -n 1 "$workdir/display" 2>/dev/null || true)
if [ -z "$num" ]; then echo "with-xvfb: Xvfb did not start" >&2; cat "$workdir/xvfb.log" >&2; exit 1; fi
xauth -f "$XAUTHORITY" add ":$num" . "$cookie" >/dev/null 2>&1
export DISPLAY=":$num"
for _ in $(seq 1 400); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.05; done  # up to 20 s on a busy machine
xdpyinfo >/dev/null 2>&1 || { echo "with-xvfb: display :$num does not answer" >&2; exit 1; }
jwm >"$workdir/wm.log" 2>&1 &
wm_pid=$!

# The accessibility bus: a private session bus, the AT-SPI bus launcher (it sets AT_SPI_BUS on the
# root window and answers org.a11y.Bus.GetAddress) and the registry that lists the applications.
if command -v dbus-daemon >/dev/null 2>&1 \
    && bus=$(dbus-daemon --session --fork --print-address=1 --print-pid=1 2>"$workdir/dbus.log"); then
  export DBUS_SESSION_BUS_ADDRESS=$(printf '%s\n' "$bus" | sed -n 1p)
  dbus_pid=$(printf '%s\n' "$bus" | sed -n 2p)
  libexec=/usr/libexec
  if [ -x "$libexec/at-spi-bus-launcher" ]; then
    "$libexec/at-spi-bus-launcher" --launch-immediately >"$workdir/a11y.log" 2>&1 &
    a11y_pid=$!
    if [ -x "$libexec/at-spi2-registryd" ]; then
      # the registry finds the bus through the launcher: wait (≤ 1 s) until the launcher owns its
      # name (asked without auto-starting a second launcher through D-Bus activation)
      for _ in $(seq 1 50); do
        dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
          org.freedesktop.DBus.NameHasOwner string:org.a11y.Bus 2>/dev/null | grep -q true && break
        sleep 0.02
      done
      "$libexec/at-spi2-registryd" >"$workdir/registry.log" 2>&1 &
      registry_pid=$!
    fi
  fi
fi
sleep 0.3
set +e
"$@" </dev/null
status=$?
exit $status
