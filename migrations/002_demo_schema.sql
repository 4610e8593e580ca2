-- The demo app's schema. Run on the PRIMARY only, in the app's database:
--   psql "host=PRIMARY dbname=app user=postgres" -v ON_ERROR_STOP=1 -f migrations/002_demo_schema.sql
-- Idempotent.
CREATE TABLE IF NOT EXISTS items (
    id         bigserial PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
