#!/bin/sh
# Temporal's schema, as its admin-tools image sets it up (instead of auto-setup):
# both databases created if missing, then brought to this server version's schema.
# Safe to run again, before each server upgrade.
set -eu
SCHEMA=/etc/temporal/schema/postgresql/v12
for database in temporal temporal_visibility; do
    directory=$SCHEMA/temporal/versioned
    [ "$database" = temporal_visibility ] && directory=$SCHEMA/visibility/versioned
    tool="temporal-sql-tool --plugin postgres12 --endpoint postgresql --port 5432 \
        --user temporal --database $database"
    $tool create-database 2>/dev/null || echo "$database exists"
    $tool setup-schema --version 0.0
    $tool update-schema --schema-dir "$directory"
done
