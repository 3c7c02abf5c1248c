#!/usr/bin/env bash
# Install Debian's Chromium for the real-browser app test (tests/test_browser.py).
# Idempotent: does nothing when /usr/bin/chromium already exists. Works as root (no sudo) or via sudo.
# Playwright drives this system browser through executable_path; never run `playwright install`.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed at /usr/bin/chromium"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser.sh: not root and no sudo; cannot apt-get install chromium" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-liberation fonts-noto-color-emoji
/usr/bin/chromium --headless --no-sandbox --version 2>/dev/null || true
