#!/usr/bin/env bash
# PostgreSQL server binaries for the tests that compare orgscope with a real
# server (tests/pg.py starts a throw-away one in a temporary folder). Installs
# Debian's `postgresql` package only when no server binaries are found, and
# never creates or starts a system-wide cluster.
set -euo pipefail

have_server() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            return 0
        fi
    done
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1
}

if have_server; then
    echo "postgres.sh: PostgreSQL server binaries found"
    exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "postgres.sh: no PostgreSQL server binaries and no way to install them (needs root and apt-get);" \
         "the PostgreSQL tests will be skipped" >&2
    exit 0
fi

echo "postgres.sh: installing Debian's postgresql package"
# The package would create and start a 'main' cluster; the tests make their own.
mkdir -p /etc/postgresql-common
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if ! have_server; then
    echo "postgres.sh: the postgresql package is installed but no server binaries were found" >&2
    exit 1
fi
echo "postgres.sh: PostgreSQL server binaries installed"
