#!/bin/sh
# Run once by the postgres image on an empty data folder: Temporal gets a user of
# its own, allowed to create its two databases, and nothing of Tocsin's.
set -eu
psql --variable=ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'password';
SQL
