/**
 * Schema migrations, applied in order at start. The database's `user_version`
 * records how many have run; all pending ones run in one transaction, so a
 * failed start leaves the schema where it was. Append only:
 * never edit a migration that has shipped.
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
