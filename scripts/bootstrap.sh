#!/usr/bin/env bash
# Sets up everything Quarterdeck needs on a Debian machine: the system libraries Qt and
# PyAutoGUI use (when run as root), then .venv with a Python that is safe for PySide6.
# Idempotent: installs only what is missing, reinstalls Python deps only when pyproject changes.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  # Qt offscreen
  libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0
  fonts-dejavu-core
  # desktop-file-validate checks packaging/quarterdeck.desktop
  desktop-file-utils
  # Qt on X11 (xcb)
  libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1
  libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0
  # a virtual screen, a window manager, delivery targets and clipboard tools
  xvfb xauth x11-utils jwm xterm tmux xclip xdotool
  # XInput2 (libXi): which device a key press came from, so a person typing pauses GUI delivery
  libxi6
  # real Chromium chat windows as GUI delivery targets, and the accessibility (AT-SPI) bus that
  # reads their inputs back; imagemagick's import takes screenshots of the whole display
  chromium at-spi2-core dbus-x11 dbus imagemagick
  # a notification daemon that draws on X: the desktop notification tests show and click its notices
  dunst
  # the Redis broker relays meet through (issue 14): tests start a real redis-server on loopback
  redis-server
  # a relay whose clock is 30 s off (tests/cli/test_relay_fleet_faults.py runs one under faketime)
  faketime
)

install_debian_packages() {
  command -v dpkg-query >/dev/null || return 0
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages (run as root or install them): ${missing[*]}" >&2
    return 0
  fi
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# PySide6 6.12.0 aborts on CPython 3.11 (the dependency pin avoids it there); 3.12+ is preferred.
find_python() {
  local c
  for c in "${QUARTERDECK_PYTHON:-}" python3.12 python3.13 \
           /root/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.13*/bin/python3.13 \
           "$HOME"/.pyenv/versions/3.12*/bin/python3.12 python3.11 python3; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys, venv; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  echo "bootstrap: no Python 3.11-3.13 found" >&2; return 1
}

setup_venv() {
  if [ ! -x .venv/bin/python ]; then
    local py; py=$(find_python)
    echo "bootstrap: creating .venv with $("$py" --version)"
    "$py" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
  fi
  local stamp=.venv/.quarterdeck-installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "bootstrap: installing Python dependencies"
    .venv/bin/python -m pip install -q -e ".[test]"
    own_xlib
    touch "$stamp"
  fi
}

# PyAutoGUI depends on python3-xlib, a fork frozen at 0.15 that installs the same `Xlib` package
# as python-xlib, which Quarterdeck imports and declares. Whichever pip installed last owns the
# files; make it python-xlib.
own_xlib() {
  [ "$(uname -s)" = Linux ] || return 0
  if ! .venv/bin/python -c 'import sys, Xlib; sys.exit(Xlib.__version__ < (0, 33))' 2>/dev/null; then
    .venv/bin/python -m pip install -q --no-deps --force-reinstall "python-xlib>=0.33"
  fi
}

install_debian_packages
setup_venv
