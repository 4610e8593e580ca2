-- Switchyard's monitoring role: LOGIN + pg_monitor, nothing else.
-- Run on the PRIMARY only, as a superuser; replicas get it by replication:
--   psql "host=PRIMARY dbname=postgres user=postgres" -v ON_ERROR_STOP=1 \
--        -v monitor_password="$SWITCHYARD_MONITOR_PASSWORD" -f migrations/001_monitoring_role.sql
-- The password is supplied at apply time and never committed. Idempotent.
SELECT 'CREATE ROLE switchyard_monitor LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'switchyard_monitor')
\gexec
ALTER ROLE switchyard_monitor WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'monitor_password';
GRANT pg_monitor TO switchyard_monitor;
