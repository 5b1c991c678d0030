#!/usr/bin/env bash
# The whole suite on both databases at once: the SQLite pass (with the browser and mail-server
# tests) and the PostgreSQL pass run side by side, one per core, each writing its own log under
# build/; each log is shown whole when its pass ends. Fails if either pass fails.
# Usage: scripts/test-both.sh MAKE   (the make to call: test-sqlite and test-postgres targets)
set -u
make_cmd="${1:-make}"
mkdir -p build
start=$(date +%s)
"$make_cmd" --no-print-directory test-sqlite >build/test-sqlite.log 2>&1 &
sqlite_pid=$!
"$make_cmd" --no-print-directory test-postgres >build/test-postgres.log 2>&1 &
postgres_pid=$!

wait $sqlite_pid; sqlite_rc=$?
echo "== SQLite pass: exit $sqlite_rc after $(( $(date +%s) - start )) s (build/test-sqlite.log)"
cat build/test-sqlite.log
wait $postgres_pid; postgres_rc=$?
echo "== PostgreSQL pass: exit $postgres_rc after $(( $(date +%s) - start )) s (build/test-postgres.log)"
cat build/test-postgres.log
echo "== make test: $(( $(date +%s) - start )) s in all; SQLite exit $sqlite_rc, PostgreSQL exit $postgres_rc"
[ "$sqlite_rc" -eq 0 ] && [ "$postgres_rc" -eq 0 ]
