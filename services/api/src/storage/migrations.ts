/**
 * Schema migrations, applied in order at start, one list per database. SQLite's
 * `user_version` records how many have run, PostgreSQL's `stagecraft_schema`
 * table likewise; all pending ones run in one transaction, so a failed start
 * leaves the schema where it was. Append only: never edit a migration that has
 * shipped, and append to both lists together (test/storage checks they are as long).
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE reports (
     id          INTEGER PRIMARY KEY AUTOINCREMENT,
     url         TEXT    NOT NULL,
     internal    INTEGER NOT NULL CHECK (internal >= 0),
     external    INTEGER NOT NULL CHECK (external >= 0),
     final_url   TEXT    NOT NULL,
     status      INTEGER NOT NULL,
     bytes       INTEGER NOT NULL,
     redirects   INTEGER NOT NULL,
     duration_ms REAL    NOT NULL,
     created_at  TEXT    NOT NULL
   )`,
];

/**
 * The same schema in PostgreSQL. created_at is a timestamptz (written and read as
 * the ISO 8601 string the API answers with); bytes a bigint (pages up to 64 MiB
 * fit an integer, but the column should not be what limits FETCH_MAX_BYTES).
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `CREATE TABLE reports (
     id          BIGINT           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     url         TEXT             NOT NULL,
     internal    INTEGER          NOT NULL CHECK (internal >= 0),
     external    INTEGER          NOT NULL CHECK (external >= 0),
     final_url   TEXT             NOT NULL,
     status      INTEGER          NOT NULL,
     bytes       BIGINT           NOT NULL,
     redirects   INTEGER          NOT NULL,
     duration_ms DOUBLE PRECISION NOT NULL,
     created_at  TIMESTAMPTZ      NOT NULL
   )`,
];
