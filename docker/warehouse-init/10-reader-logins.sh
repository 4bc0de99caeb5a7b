#!/usr/bin/env bash
# Run by the postgres image once, when the warehouse's volume is new (and by its test against a real server):
# the group roles the product grants the marts to, and a login for Metabase that is a member of bi_reader
# only, so the BI tool reads masked marts and nothing else. The product creates the same group roles when
# missing, so the order in which they come up does not matter.
set -euo pipefail
: "${METABASE_WAREHOUSE_PASSWORD:?set METABASE_WAREHOUSE_PASSWORD}"

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v metabase_password="$METABASE_WAREHOUSE_PASSWORD" <<'SQL'
select 'create role bi_reader nologin' where not exists (select from pg_roles where rolname = 'bi_reader')
\gexec
select 'create role pii_reader nologin' where not exists (select from pg_roles where rolname = 'pii_reader')
\gexec
select 'create role metabase login' where not exists (select from pg_roles where rolname = 'metabase')
\gexec
alter role metabase with login nosuperuser nocreatedb nocreaterole password :'metabase_password';
grant bi_reader to metabase;
SQL
