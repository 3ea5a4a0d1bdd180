#!/usr/bin/env bash
# PostgreSQL for shared tuning studies (gradwise tune --storage URL) and for the tests.
#
#   scripts/postgres.sh install          install PostgreSQL from Debian's packages if missing
#   scripts/postgres.sh start DIR [PORT] start a throwaway server on 127.0.0.1 with its files in
#                                        DIR (created; a free port if none is given) and print
#                                        its URL: postgresql+psycopg2://gradwise:PW@127.0.0.1:PORT/gradwise
#   scripts/postgres.sh url DIR          print the URL of the server started in DIR
#   scripts/postgres.sh stop DIR         stop it (DIR is left for you to delete)
#
# PostgreSQL refuses to run as root: as root the server runs as the 'postgres' user. The server
# listens on loopback only, with a random password, and trades durability for speed (fsync off):
# it is for studies and tests, not for data you cannot recreate.
set -euo pipefail

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

bindir() {
    # Debian keeps the server programs (initdb, pg_ctl, postgres) off PATH, per version
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$found" && -x "$found/initdb" ]]; then
        echo "$found"
    elif command -v initdb >/dev/null 2>&1 && command -v createdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
    else
        return 1
    fi
}

install() {
    if [[ -n "$(bindir || true)" ]]; then
        say "PostgreSQL is installed ($("$(bindir)/postgres" --version))"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is not available; install PostgreSQL (initdb, pg_ctl) another way"
    [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed; installing it needs root: sudo $0 install"
    say "installing PostgreSQL from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    [[ -n "$(bindir || true)" ]] || die "apt-get installed postgresql but initdb was not found"
    say "PostgreSQL is installed ($("$(bindir)/postgres" --version))"
}

# Run a command as the server's user: 'postgres' when we are root, else ourselves.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local root=${1:?usage: $0 start DIR [PORT]} port=${2:-}
    install
    local bin
    bin=$(bindir)
    mkdir -p "$root"
    root=$(cd "$root" && pwd)
    if [[ -f "$root/url" ]] && as_owner "$bin/pg_ctl" -D "$root/data" status >/dev/null 2>&1; then
        cat "$root/url"
        return 0
    fi
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
        chown postgres "$root"
        runuser -u postgres -- test -w "$root" \
            || die "$root: the postgres user cannot reach it (a parent folder is private); use a folder under /tmp"
    fi
    [[ -n "$port" ]] || port=$(free_port)
    local password
    password=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
    if [[ ! -f "$root/data/PG_VERSION" ]]; then
        printf '%s\n' "$password" > "$root/password"
        chmod 600 "$root/password"
        [[ $(id -u) -eq 0 ]] && chown postgres "$root/password"
        as_owner "$bin/initdb" -D "$root/data" -U gradwise --pwfile="$root/password" \
            -A scram-sha-256 -E UTF8 >"$root/initdb.log" 2>&1 \
            || die "initdb failed; see $root/initdb.log"
    fi
    password=$(cat "$root/password")
    as_owner "$bin/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $root -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
        >/dev/null || die "the server did not start; see $root/server.log"
    if ! PGPASSWORD=$password as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U gradwise -d postgres \
        -tAc "SELECT 1 FROM pg_database WHERE datname = 'gradwise'" | grep -q 1; then
        PGPASSWORD=$password as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U gradwise gradwise \
            || die "createdb failed; see $root/server.log"
    fi
    echo "postgresql+psycopg2://gradwise:$password@127.0.0.1:$port/gradwise" | tee "$root/url"
}

stop() {
    local root=${1:?usage: $0 stop DIR}
    local bin
    bin=$(bindir) || die "PostgreSQL is not installed"
    [[ -f "$root/data/PG_VERSION" ]] || die "$root: no server was started there"
    as_owner "$bin/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null 2>&1 || true
    say "stopped the server in $root"
}

case "${1:-}" in
    install) install ;;
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    url) [[ -f "${2:?usage: $0 url DIR}/url" ]] && cat "$2/url" || die "$2: no server was started there" ;;
    *) echo "usage: $0 install | start DIR [PORT] | url DIR | stop DIR" >&2; exit 2 ;;
esac
