#!/bin/sh
# pg_ctl for pytest-postgresql when the tests run as root, which pg_ctl refuses:
# runs the newest local pg_ctl as the "postgres" user, after handing that user the
# directory pytest-postgresql made for the cluster (data directory and log file).
set -eu
real=$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1)
if [ -z "$real" ]; then
    real=$(command -v pg_ctl)
fi
if [ "$(id -u)" != 0 ]; then
    exec "$real" "$@"
fi
previous=""
for argument in "$@"; do
    if [ "$previous" = "--pgdata" ] || [ "$previous" = "-D" ]; then
        parent=$(dirname "$argument")
        mkdir -p "$parent"
        chown postgres "$parent"
        directory=$parent
        while [ "$directory" != "/" ]; do
            chmod o+x "$directory"  # traverse only: the tree stays unlistable
            directory=$(dirname "$directory")
        done
    fi
    previous=$argument
done
cd /
exec runuser -u postgres -- "$real" "$@"
