#!/usr/bin/env bash
# Names in other encodings than UTF-8 never cost the exposition (issue 11, defect 1), against a
# real PostgreSQL 15 started by scripts/lib/servers.sh:
#   latin1db  ENCODING 'LATIN1' with a table "tablé": the session's client_encoding UTF8 makes
#             the server convert the name, which arrives as relname="tablé"
#   sqlascii  ENCODING 'SQL_ASCII' with a table named by the raw byte 0xE9: the server refuses
#             to convert it, so that database is read with client_encoding SQL_ASCII and the
#             sink escapes the byte reversibly: relname="tabl\xE9"
# and promtool accepts the whole exposition (one invalid label value used to make Prometheus
# reject every series of the agent).
#
#   tests/integration/encoding_test.sh PATH_TO_TACHO
set -uo pipefail

TACHO="${1:?usage: $0 /path/to/tacho}"
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
check_begin tacho-encoding-test

PROMTOOL="$(tacho_promtool)" || { echo "promtool missing"; exit 1; }
tacho_start_postgres || { echo "cannot start PostgreSQL"; exit 1; }

psql_in() {  # DB CLIENT_ENCODING: runs the SQL on stdin
  PGCLIENTENCODING="$2" "$TACHO_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
    -p "$TACHO_PG_PORT" -U postgres -d "$1"
}
psql_in tacho_test UTF8 <<'SQL' || exit 1
CREATE DATABASE latin1db ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
CREATE DATABASE sqlascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
SQL
echo 'CREATE TABLE "tablé" (id int); INSERT INTO "tablé" VALUES (1), (2);' | psql_in latin1db UTF8 ||
  exit 1
printf 'CREATE TABLE "tabl\xe9" (id int); INSERT INTO "tabl\xe9" VALUES (1);\n' |
  psql_in sqlascii SQL_ASCII || exit 1

tacho_agent_config "$WORK/tacho.toml" "$WORK/state" <<TOML
[[collectors.postgres]]
name = "db"
interval = "1s"
dsn = "$TACHO_PG_DSN"
databases = ["latin1db", "sqlascii"]
max_connections = 3
relations_interval = "1s"
TOML
start_agent agent "$WORK/tacho.toml"
check "LATIN1 'tablé' arrives converted" \
  wait_for 30 http_grep "$AGENT_URL/metrics" -F 'datname="latin1db",schemaname="public",relname="tablé"'
check "SQL_ASCII's raw 0xE9 is escaped, not dropped" \
  wait_for 30 http_grep "$AGENT_URL/metrics" -F 'datname="sqlascii",schemaname="public",relname="tabl\\xE9"'
scrape "$WORK/m.prom"
check "promtool check metrics accepts the exposition" \
  bash -c "'$PROMTOOL' check metrics < '$WORK/m.prom'"
check "the whole exposition is valid UTF-8" iconv -f UTF-8 -t UTF-8 "$WORK/m.prom" -o /dev/null
check_summary
