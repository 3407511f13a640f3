#!/bin/sh
# Temporal's two databases (temporal, temporal_visibility) created and brought to the schema of
# the admin-tools image's server version; idempotent, so every `docker compose up` runs it. As in
# Temporal's own compose examples (temporalio/samples-server compose/scripts/setup-postgres.sh).
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
port=${DB_PORT:-5432}
schema=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" --db "$@"; }
for db in temporal:temporal temporal_visibility:visibility; do
  name=${db%%:*}
  sql "$name" create
  # setup-schema -v 0.0 only creates the version table when missing; update-schema applies what is new.
  sql "$name" setup-schema -v 0.0
  sql "$name" update-schema -d "$schema/${db#*:}/versioned"
done
echo 'Temporal schema ready'
