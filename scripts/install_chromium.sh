#!/usr/bin/env bash
# Install Debian's Chromium + ChromeDriver (and a CJK font for readable screenshots) for the
# frontend's browser test (idempotent).
# The browser test skips with a clear reason when /usr/bin/chromium is absent.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi wqy; then
  echo "chromium and chromedriver already installed: $(chromium --version 2>/dev/null || true)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-wqy-microhei
chromium --version
