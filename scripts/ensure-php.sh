#!/usr/bin/env bash
# Installs what the PHP bridge tests need from Debian's packages when it is missing: php-cli with
# the curl, mysql (PDO), mbstring and xml extensions, PHPUnit, and Smarty (smarty4, else smarty3).
# Idempotent and quiet when everything is there. Runs apt-get as root (through sudo when not root).
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
php_has() { command -v php >/dev/null 2>&1 && php -r "exit(extension_loaded('$1') ? 0 : 1);" 2>/dev/null; }

command -v php >/dev/null 2>&1 || missing+=(php-cli)
php_has curl || missing+=(php-curl)
php_has pdo_mysql || missing+=(php-mysql)
php_has mbstring || missing+=(php-mbstring)
{ php_has dom && php_has xml && php_has xmlwriter; } || missing+=(php-xml)
command -v phpunit >/dev/null 2>&1 || missing+=(phpunit)
need_smarty=false
[ -f /usr/share/php/smarty4/Smarty.class.php ] || [ -f /usr/share/php/smarty3/Smarty.class.php ] || need_smarty=true

[ ${#missing[@]} -eq 0 ] && [ "$need_smarty" = false ] && exit 0

export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
if [ "$need_smarty" = true ]; then
  # smarty4 where the release has it (Debian 12+), smarty3 otherwise.
  if apt-cache show smarty4 >/dev/null 2>&1; then missing+=(smarty4); else missing+=(smarty3); fi
fi
echo "== installing from Debian's packages: ${missing[*]}"
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
