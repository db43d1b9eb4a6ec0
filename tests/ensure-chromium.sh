#!/bin/sh
# Headless Chromium for the browser test that walks the guide (tests/test_ui_guide.py).
# Debian's `chromium` package only: the test drives it with Playwright's executable_path and never
# downloads a browser (no `playwright install`).
#   present                -> exit 0, silent
#   missing, root with apt -> apt-get install chromium, exit 0
#   otherwise              -> one line saying what to install, exit 1
# RUNNER_CHROMIUM names another Chromium binary (default /usr/bin/chromium).
set -u
CHROMIUM="${RUNNER_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0

if [ "$(id -u)" = 0 ] && [ -z "${RUNNER_CHROMIUM:-}" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser test (apt-get install chromium) ..." >&2
    log="${TMPDIR:-/tmp}/ensure-chromium.$$.log"
    if { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } >"$log" 2>&1 \
        && [ -x "$CHROMIUM" ]; then
        rm -f "$log"
        exit 0
    fi
    echo "error: apt-get install chromium failed (see $log); install Debian's chromium package for the browser test" >&2
    exit 1
fi

echo "error: the browser test needs headless Chromium at $CHROMIUM: install Debian's chromium package (sudo apt-get install chromium) or set RUNNER_CHROMIUM to a Chromium binary" >&2
exit 1
