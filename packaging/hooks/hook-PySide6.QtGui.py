"""Replaces PyInstaller's own PySide6.QtGui hook to collect only the Qt plugins a desktop needs.

Filtering here, before PyInstaller follows each plugin's library dependencies, is what keeps the
libraries of dropped plugins out as well: the gtk3 theme alone would bundle the build machine's
GTK, cairo and pango (and clash with the user's). Plugins are kept by folder (KEEP_PLUGINS:
a tuple of file-name prefixes, None for the whole folder); folders not listed are dropped:
eglfs, linuxfb, vnc and evdev input serve kiosk devices, not desktops.
"""
from pathlib import PurePath

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

KEEP_PLUGINS = {
    "platforms": ("libqxcb", "libqoffscreen", "libqminimal.", "libqwayland"),
    "platformthemes": ("libqxdgdesktopportal",),
    "platforminputcontexts": None,  # compose (dead keys) and ibus (input methods)
    "imageformats": ("libqsvg", "libqico", "libqgif", "libqjpeg"),
    "iconengines": None,  # the SVG icon engine
    "xcbglintegrations": None,
    "wayland-shell-integration": ("libxdg-shell", "libwl-shell", "libqt-shell"),
    "wayland-decoration-client": None,
    "wayland-graphics-integration-client": ("libqt-plugin-wayland-egl", "libshm-emulation"),
}


def wanted(dest_dir: str, src: str) -> bool:
    """Whether a file PyInstaller's Qt helper collected for QtGui belongs in the app."""
    parts = PurePath(dest_dir).parts
    if "plugins" not in parts or parts[-1] == "plugins":
        return True
    keep = KEEP_PLUGINS.get(parts[-1], ())
    return keep is None or PurePath(src).name.startswith(keep)


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(src, dest) for src, dest in binaries if wanted(dest, src)]
