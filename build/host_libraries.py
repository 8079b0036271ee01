"""Linux system libraries left out of the bundle: the host supplies them (used by bundle_trim).

Matched against a library's name at the top of the bundle, where PyInstaller puts the
libraries it collected from /lib; Linux only. The rule, after AppImage's "excludelist" of libraries
never to bundle: the libraries on that list, the ones the PySide6 wheel itself does not
ship but takes from the system (README, the apt-get line: Qt for Python needs them on
every Linux machine it runs on, frozen or not), and those that come only with them.
Every desktop Ubuntu (22.04+), Debian (12+) or Fedora has them; PySide6 6.11's wheel
needs glibc 2.34, so older systems are out anyway. Kept although common: libstdc++ (a
newer one than the host's may be needed), the small libxcb-* extension libraries and
libxkbcommon-x11 (a stock Ubuntu lacks libxcb-cursor0: Qt's xcb plugin would not
load), brotli (Qt Network's), and the libraries of Python's own modules (OpenSSL,
SQLite, libffi, liblzma, libbz2). The headless commands (serve, send, pull ...) load
none of these: only the desktop app and the self-test's GUI checks load Qt.
"""

from __future__ import annotations

# (pattern matched against a library's name at the top of the bundle, reason)
HOST_LIBRARIES: tuple[tuple[str, str], ...] = (
    (
        "libX11.so.*",
        "X11 client (AppImage excludelist); the host's libGL, which Qt Gui needs, links it",
    ),
    ("libX11-xcb.so.*", "X11/xcb bridge (AppImage excludelist), with libX11"),
    ("libXau.so.*", "libxcb's own (libxcb.so.1 is never bundled: the host's brings it)"),
    ("libXdmcp.so.*", "libxcb's own (libxcb.so.1 is never bundled: the host's brings it)"),
    ("libbsd.so.*", "comes only with libXdmcp (libxcb's)"),
    ("libmd.so.*", "comes only with libbsd (libxcb's)"),
    (
        "libfontconfig.so.*",
        "must match the host's font setup (AppImage excludelist; README's apt line)",
    ),
    ("libfreetype.so.*", "font rendering, with fontconfig (AppImage excludelist)"),
    ("libpng16.so.*", "comes only with libfreetype (Qt reads PNG with its own code)"),
    (
        "libexpat.so.*",
        "fontconfig's XML parser (AppImage excludelist; Python's pyexpat has its own)",
    ),
    ("libglib-2.0.so.*", "Qt Core's event loop; the PySide6 wheel takes the system's (README)"),
    ("libgthread-2.0.so.*", "part of GLib, as libglib-2.0"),
    ("libpcre2-8.so.*", "comes only with GLib (its regular expressions)"),
    (
        "libdbus-1.so.*",
        "Qt DBus links it; the PySide6 wheel takes the system's (README); every desktop "
        "session runs on D-Bus",
    ),
    ("libsystemd.so.*", "comes only with libdbus-1 (the host's brings its own)"),
    ("libgcrypt.so.*", "comes only with libsystemd (libdbus-1's)"),
    ("libgpg-error.so.*", "comes only with libgcrypt (and is on AppImage's excludelist)"),
    ("liblz4.so.*", "comes only with libsystemd (libdbus-1's)"),
    ("libcap.so.*", "comes only with libsystemd (libdbus-1's)"),
    (
        "libzstd.so.*",
        "Qt Core links it; a required package: dpkg (Debian, Ubuntu) and rpm (Fedora) link it",
    ),
    (
        "libxkbcommon.so.*",
        "Qt Gui's keyboard maps; the PySide6 wheel takes the system's (README); "
        "GTK 3 and 4 link it",
    ),
    (
        "libgssapi_krb5.so.*",
        "Qt Network's Negotiate login, never used; CUPS (libcups2) and ssh link it "
        "on every desktop",
    ),
    ("libkrb5.so.*", "comes only with libgssapi_krb5 (Qt Network's)"),
    ("libk5crypto.so.*", "comes only with libgssapi_krb5 (Qt Network's)"),
    ("libkrb5support.so.*", "comes only with libgssapi_krb5 (Qt Network's)"),
    ("libkeyutils.so.*", "comes only with libkrb5 (Qt Network's)"),
    ("libcom_err.so.*", "Kerberos' error tables (AppImage excludelist)"),
    ("libgcc_s.so.*", "GCC's runtime (AppImage excludelist): an essential package everywhere"),
    ("libz.so.*", "zlib (AppImage excludelist): a required package everywhere"),
    ("libuuid.so.*", "util-linux's (AppImage excludelist): a required package everywhere"),
)
