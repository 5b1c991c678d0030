-- kefu's two PostgreSQL roles and its database (docs/deployment.md, "Database roles"). Run once,
-- as a superuser, with the two passwords as psql variables:
--   psql -v owner_password='…' -v app_password='…' -f deploy/postgres/roles.sql
-- kefu_owner owns the schema and is used only by `kefu db upgrade` (KEFU_MIGRATE_DATABASE_URL);
-- kefu_app is what every kefu serve and kefu worker uses (KEFU_DATABASE_URL). After each upgrade
-- kefu grants kefu_app SELECT, INSERT, UPDATE and DELETE on its tables and no more
-- (src/kefu/db/grants.py; by hand: kefu db grant kefu_app).
CREATE ROLE kefu_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE kefu_app LOGIN PASSWORD :'app_password';
CREATE DATABASE kefu OWNER kefu_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE kefu FROM PUBLIC;
GRANT CONNECT ON DATABASE kefu TO kefu_app;
\connect kefu
-- PostgreSQL 15 and later already refuse CREATE in public to everyone but its owner; older ones
-- need this line.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO kefu_owner;
