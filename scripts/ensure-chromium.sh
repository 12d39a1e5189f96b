#!/usr/bin/env bash
# Installs Chromium from Debian's packages for the browser tests (test/browser) when it is missing.
# Idempotent and quiet when it is there. Runs apt-get as root (through sudo when not root).
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

[ -x /usr/bin/chromium ] && exit 0

echo "== installing from Debian's packages: chromium"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
