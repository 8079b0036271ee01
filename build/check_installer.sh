#!/usr/bin/env bash
# Check installer.iss without Windows, under Wine: compile it against stand-in bundles
# with the Windows file names, then in a fresh Wine prefix: a silent install, an upgrade
# to a bundle that lost a file, an uninstall keeping the user's data and one removing it.
# Also: the "start with Windows" Run value's arguments are accepted by the app's own
# argument parser, and nothing lands machine-wide (Program Files, HKLM, all users' menus).
#
#   bash build/check_installer.sh [VERSION]      (build/make_release.py runs it on Linux)
#
# Needs: wine64 and wine32 (Inno Setup's compiler and every setup it makes are 32-bit
# programs: with wine64 alone ISCC prints nothing and exits 0, so output files are
# checked, never exit codes alone), Xvfb (setup needs a display even when silent; every
# Wine call here sees the same one), npm (Inno Setup 6.4.1 from the npm registry's
# `innosetup` package, cached in .build-work/), and the project's .venv.
# Takes about a minute. Its logs stay in .build-work/installer-check/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK="$ROOT/.build-work/installer-check"
ISS=${ISS:-$ROOT/installer.iss} # another script to check (same folder: it names resources\)
INNO_VERSION=6.4.1
NEW_VERSION=${1:-0.1.0}
OLD_VERSION=0.0.1
PYTHON="$ROOT/.venv/bin/python"
APP_ID='{6C0F4E2B-6F3A-4B7E-9C7B-2D5E8A1F4B93}_is1'
UNINSTALL_KEY="Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$APP_ID"
RUN_KEY='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'

failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
need() { command -v "$1" >/dev/null || { echo "check_installer: $1 is not installed ($2)"; exit 2; }; }
need wine "apt-get install wine wine64 wine32:i386"
need Xvfb "apt-get install xvfb xauth"
need npm "apt-get install npm"

rm -rf "$WORK/prefix" "$WORK/out" "$WORK/standin-old" "$WORK/standin-new" "$WORK"/*.log
mkdir -p "$WORK/out"

# --- Inno Setup 6.4.1 from the npm registry (bin/ISCC.exe), once --------------------
ISCC="$WORK/innosetup/package/bin/ISCC.exe"
if [ ! -f "$ISCC" ]; then
  mkdir -p "$WORK/innosetup"
  (cd "$WORK/innosetup" && npm pack --silent "innosetup@$INNO_VERSION" >/dev/null \
    && tar xzf "innosetup-$INNO_VERSION.tgz")
fi

# --- one display for every Wine call -------------------------------------------------
Xvfb -displayfd 3 -nolisten tcp -screen 0 1024x768x24 3>"$WORK/display" 2>/dev/null &
XVFB_PID=$!
trap 'WINEPREFIX="$WORK/prefix" wineserver -k 2>/dev/null || true; kill $XVFB_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$WORK/display" ] && break; sleep 0.1; done
export DISPLAY=":$(cat "$WORK/display")"
export WINEPREFIX="$WORK/prefix" WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko install prompts
echo "Wine $(wine --version), display $DISPLAY, prefix $WINEPREFIX"
wineboot --init >/dev/null 2>&1
wineserver -w

winpath() { winepath -w "$1" 2>/dev/null; }
# Wait for every program of the prefix (unins000.exe returns before its copy has run).
settle() { timeout "${1:-120}" wineserver -w; }

# --- stand-in bundles with the Windows file names -------------------------------------
standin() { # folder, version, extra file or ""
  local dir=$1
  mkdir -p "$dir/_internal/PySide6/plugins/platforms" "$dir/_internal/resources"
  for f in meterbridge.exe meterbridge-cli.exe _internal/python311.dll \
    _internal/base_library.zip _internal/PySide6/plugins/platforms/qwindows.dll; do
    echo "stand-in $f $2" >"$dir/$f"
  done
  cp "$ROOT/resources/meterbridge.ico" "$dir/_internal/resources/"
  [ -z "$3" ] || echo "only in $2" >"$dir/$3"
}
standin "$WORK/standin-old" "$OLD_VERSION" "_internal/old_only.dll"
standin "$WORK/standin-new" "$NEW_VERSION" ""

compile() { # version, bundle
  wine "$ISCC" /Q "/DAppVersion=$1" "/DSourceDir=$(winpath "$2")" \
    "/O$(winpath "$WORK/out")" "$(winpath "$ISS")" >"$WORK/iscc-$1.log" 2>&1 || true
  settle
  if [ -f "$WORK/out/meterbridge-$1-setup.exe" ]; then
    ok "installer.iss compiles ($1): $(du -k "$WORK/out/meterbridge-$1-setup.exe" | cut -f1) KiB"
  else
    fail "ISCC made no meterbridge-$1-setup.exe (see $WORK/iscc-$1.log; is wine32 installed?)"
    cat "$WORK/iscc-$1.log"
    exit 1
  fi
}
compile "$OLD_VERSION" "$WORK/standin-old"
compile "$NEW_VERSION" "$WORK/standin-new"

USER_DIR="$WINEPREFIX/drive_c/users/$(id -un)"
APP="$USER_DIR/AppData/Local/Programs/meterbridge"
MENU="$USER_DIR/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/meterbridge"
DATA_LOCAL="$USER_DIR/AppData/Local/meterbridge"
DATA_ROAMING="$USER_DIR/AppData/Roaming/meterbridge"

run_setup() { # version, log name, extra arguments...
  local version=$1 log=$2
  shift 2
  wine "$WORK/out/meterbridge-$version-setup.exe" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART \
    "/LOG=$(winpath "$WORK/$log.log")" "$@" >/dev/null 2>&1 || true
  settle || fail "$log: setup did not finish within 120 s"
}
uninstall() { # log name, extra arguments...
  local log=$1
  shift
  [ -f "$APP/unins000.exe" ] || { fail "$log: no unins000.exe"; return; }
  wine "$APP/unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART \
    "/LOG=$(winpath "$WORK/$log.log")" "$@" >/dev/null 2>&1 || true
  settle 60 || fail "$log: the uninstaller still runs after 60 s (a message box waiting?)"
}
reg_has() { wine reg query "$1" /reg:64 >/dev/null 2>&1; }
reg_value() { { wine reg query "$1" /v "$2" /reg:64 2>/dev/null || true; } | tr -d '\r' | sed -n "s/^ *$2 *REG_SZ *//p"; }
nothing_machine_wide() {
  local where=$1 found=""
  for dir in "Program Files/meterbridge" "Program Files (x86)/meterbridge" \
    "ProgramData/Microsoft/Windows/Start Menu/Programs/meterbridge" \
    "users/Public/Desktop/meterbridge.lnk"; do
    [ -e "$WINEPREFIX/drive_c/$dir" ] && found="$found C:/$dir"
  done
  for view in /reg:64 /reg:32; do
    wine reg query "HKLM\\$UNINSTALL_KEY" "$view" >/dev/null 2>&1 && found="$found HKLM($view)"
  done
  if [ -z "$found" ]; then ok "$where: nothing machine-wide"; else fail "$where: machine-wide:$found"; fi
}

# --- 1. silent install of the old version, with both tasks ----------------------------
run_setup "$OLD_VERSION" install /TASKS="startwithwindows,desktopicon"
if [ -f "$APP/meterbridge.exe" ] && [ -f "$APP/_internal/old_only.dll" ] && [ -f "$APP/unins000.exe" ]; then
  ok "install: program in %LOCALAPPDATA%\\Programs\\meterbridge"
else
  fail "install: files missing in $APP"
fi
[ -f "$MENU/meterbridge.lnk" ] && ok "install: Start menu shortcut (this user)" || fail "install: no Start menu shortcut in $MENU"
[ -f "$USER_DIR/Desktop/meterbridge.lnk" ] && ok "install: desktop shortcut (this user)" || fail "install: no desktop shortcut for this user"
reg_has "HKCU\\$UNINSTALL_KEY" && ok "install: uninstall entry under HKCU" || fail "install: no HKCU uninstall entry"
grep -q "Administrative install mode: No" "$WORK/install.log" && ok "install: not in administrative mode" \
  || fail "install: administrative install mode (see $WORK/install.log)"
nothing_machine_wide install

RUN_VALUE=$(reg_value "$RUN_KEY" meterbridge)
if [ -n "$RUN_VALUE" ]; then
  # The Run value is '"C:\...\meterbridge.exe" <arguments>': the app's parser must take them.
  if "$PYTHON" - "$RUN_VALUE" <<'EOF'
import re
import sys

sys.path.insert(0, ".")
from app.cli import build_parser

value = sys.argv[1]
match = re.fullmatch(r'"([^"]+\\meterbridge\.exe)"\s*(.*)', value)
if not match:
    sys.exit(f"Run value not '\"...\\meterbridge.exe\" arguments': {value}")
words = match.group(2).split()
args = build_parser(words).parse_args(words)  # exits 2 on an unknown argument
if args.command != "gui" or not args.minimized:
    sys.exit(f"Run value starts {args.command!r}, minimized={args.minimized}")
print(f"ok   start with Windows: {value} (the app's parser takes '{match.group(2)}')")
EOF
  then :; else fail "start with Windows: the app refuses the Run value's arguments"; fi
else
  fail "start with Windows: no Run value after installing with the task"
fi

# --- 2. user data, then a silent upgrade to a bundle without old_only.dll -------------
mkdir -p "$DATA_LOCAL" "$DATA_ROAMING"
echo '{"version": 1}' >"$DATA_LOCAL/settings.json"
echo journal >"$DATA_LOCAL/journal.sqlite3"
echo roaming >"$DATA_ROAMING/keep.txt"
run_setup "$NEW_VERSION" upgrade
[ -e "$APP/_internal/old_only.dll" ] && fail "upgrade: old_only.dll left behind" || ok "upgrade: files the new bundle lost are gone"
grep -q "$NEW_VERSION" "$APP/meterbridge.exe" && ok "upgrade: new files installed" || fail "upgrade: meterbridge.exe not replaced"
[ "$(reg_value "HKCU\\$UNINSTALL_KEY" DisplayVersion)" = "$NEW_VERSION" ] && ok "upgrade: one uninstall entry, version $NEW_VERSION" \
  || fail "upgrade: uninstall entry does not say $NEW_VERSION"
[ -n "$(reg_value "$RUN_KEY" meterbridge)" ] && ok "upgrade: start with Windows kept" || fail "upgrade: Run value lost"
[ -f "$DATA_LOCAL/settings.json" ] && ok "upgrade: user data kept" || fail "upgrade: user data lost"
nothing_machine_wide upgrade

# --- 3. silent uninstall: keeps the user's data, asks nothing -------------------------
uninstall uninstall-keep
[ -e "$APP/meterbridge.exe" ] && fail "uninstall: program left in $APP" || ok "uninstall: program removed"
[ -e "$MENU" ] && fail "uninstall: Start menu folder left" || ok "uninstall: shortcuts removed"
reg_has "HKCU\\$UNINSTALL_KEY" && fail "uninstall: uninstall entry left" || ok "uninstall: uninstall entry removed"
[ -n "$(reg_value "$RUN_KEY" meterbridge)" ] && fail "uninstall: Run value left" || ok "uninstall: start with Windows removed"
if [ -f "$DATA_LOCAL/settings.json" ] && [ -f "$DATA_ROAMING/keep.txt" ]; then
  ok "silent uninstall keeps settings, journal and outbox"
else
  fail "silent uninstall removed the user's data"
fi

# --- 4. install again, then a silent uninstall asked to remove the data ---------------
# /ALLUSERS must not make it machine-wide (no PrivilegesRequiredOverridesAllowed).
run_setup "$NEW_VERSION" reinstall /ALLUSERS
grep -q "Administrative install mode: No" "$WORK/reinstall.log" && ok "/ALLUSERS: still per user" || fail "/ALLUSERS: administrative install"
uninstall uninstall-remove /REMOVEUSERDATA
if [ -e "$DATA_LOCAL" ] || [ -e "$DATA_ROAMING" ]; then
  fail "uninstall /REMOVEUSERDATA: user data left"
else
  ok "uninstall /REMOVEUSERDATA removes settings, journal and outbox"
fi
[ -e "$APP/meterbridge.exe" ] && fail "uninstall /REMOVEUSERDATA: program left" || ok "uninstall /REMOVEUSERDATA: program removed"
nothing_machine_wide uninstall

if [ "$failures" -ne 0 ]; then
  echo "installer check: $failures failure(s); logs in $WORK"
  exit 1
fi
echo "installer check passed (Inno Setup $INNO_VERSION under $(wine --version))"
