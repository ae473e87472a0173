#!/bin/sh
# One-shot job of docker-compose.yml (temporalio/admin-tools image): creates Temporal's
# two PostgreSQL databases and brings their schemas to the version this admin-tools
# image ships — the replacement for the deprecated auto-setup image, as in
# temporalio/samples-server compose/. Safe to run again: an existing database is kept
# and versions already applied are skipped, so `docker compose up` after an upgrade of
# the images also upgrades the schema.
set -eu

: "${POSTGRES_SEEDS:=postgresql}"
: "${DB_PORT:=5432}"
: "${POSTGRES_USER:=temporal}"
: "${SQL_PASSWORD:?set SQL_PASSWORD to the PostgreSQL password}"
SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  schema=${pair#*:}
  echo "database $db: create if missing, then schema $SCHEMA_DIR/$schema"
  # SQL_PASSWORD is read from the environment by temporal-sql-tool.
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --db "$db" create
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --db "$db" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --db "$db" update-schema -d "$SCHEMA_DIR/$schema/versioned"
done
echo "PostgreSQL schemas are up to date"
