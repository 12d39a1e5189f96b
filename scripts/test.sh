#!/usr/bin/env bash
# The whole test suite: `npm test`. Installs and starts what the tests need when it is missing
# (MariaDB, php-cli, PHPUnit, Smarty and Chromium from Debian's packages), type-checks, lints, checks formatting, builds, and runs mocha
# against a fresh database that the tests create and drop on the MariaDB at TEST_DB_HOST:TEST_DB_PORT
# (default 127.0.0.1:3306, user root with an empty password).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${TEST_DB_HOST:=127.0.0.1}"
: "${TEST_DB_PORT:=3306}"
: "${TEST_DB_USER:=root}"
: "${TEST_DB_PASSWORD:=}"
export TEST_DB_HOST TEST_DB_PORT TEST_DB_USER TEST_DB_PASSWORD

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

mariadb_up() {
  node -e '
    const m = require("mysql2/promise");
    m.createConnection({ host: process.env.TEST_DB_HOST, port: +process.env.TEST_DB_PORT,
      user: process.env.TEST_DB_USER, password: process.env.TEST_DB_PASSWORD, connectTimeout: 2000 })
      .then(c => c.end()).then(() => process.exit(0), () => process.exit(1));' 2>/dev/null
}

ensure_mariadb() {
  mariadb_up && return 0
  if [ "$TEST_DB_HOST" != 127.0.0.1 ] && [ "$TEST_DB_HOST" != localhost ]; then
    echo "MariaDB at $TEST_DB_HOST:$TEST_DB_PORT is not reachable" >&2; return 1
  fi
  if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    echo "== installing MariaDB from Debian's packages"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq mariadb-server >/dev/null
  fi
  echo "== starting MariaDB"
  as_root mkdir -p /run/mysqld
  as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 60); do mariadb_up && return 0; sleep 1; done
  echo "MariaDB did not come up on $TEST_DB_HOST:$TEST_DB_PORT" >&2; return 1
}

ensure_mariadb
# php-cli, PHPUnit and Smarty for the WHMCS module's tests (from Debian's packages when missing).
bash scripts/ensure-php.sh
# Chromium for the usage page's browser tests (from Debian's packages when missing).
bash scripts/ensure-chromium.sh
echo "== build"
npm run build --silent
echo "== type check, lint, format"
npm run check --silent
echo "== tests"
npx mocha "$@"
