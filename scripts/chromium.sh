#!/bin/sh
# Install Debian's headless-capable Chromium for the report's browser test.
#
# Idempotent: does nothing when /usr/bin/chromium is already there. Never fails the caller:
# where apt-get is missing, or the install is refused (no root, no package source), it says so
# and exits 0; the browser test then skips with the same reason.
set -u

if command -v chromium >/dev/null 2>&1; then
    echo "chromium: already installed ($(command -v chromium))"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium: apt-get is not available on this system; the browser test will be skipped" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "chromium: not root and no password-less sudo; cannot install (the browser test" \
             "will be skipped). Install it with: apt-get install chromium" >&2
        exit 0
    fi
fi
echo "chromium: installing Debian's chromium package"
if $SUDO apt-get update -q >/dev/null \
    && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
        chromium fonts-dejavu-core >/dev/null; then
    echo "chromium: installed ($(command -v chromium))"
else
    echo "chromium: apt-get could not install chromium; the browser test will be skipped" >&2
fi
exit 0
