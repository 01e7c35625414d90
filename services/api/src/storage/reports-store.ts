/**
 * Reports in SQLite (better-sqlite3): one file under the data directory, WAL
 * journal, full fsync on commit so that a report whose 201 reached the client
 * survives a crash, and a busy timeout so several processes can write one file.
 */
import Database from 'better-sqlite3';
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeSpaceOf } from './free-space.js';
import { MIGRATIONS } from './migrations.js';

import {
  WRITE_FAILURE_MEMORY_MS,
  decodeCursor,
  isStorageUnavailable,
  pageOf,
  type NewReport,
  type Page,
  type Report,
  type ReportsStore,
  type StorageHealth,
} from './store.js';

// What the routes and tests imported from here before there were two stores.
export {
  InvalidCursorError,
  StorageUnavailableError,
  decodeCursor,
  encodeCursor,
  isStorageUnavailable,
} from './store.js';
export type { NewReport, Page, Report, ReportsStore, StorageHealth } from './store.js';

interface Row {
  id: number;
  url: string;
  internal: number;
  external: number;
  final_url: string;
  status: number;
  bytes: number;
  redirects: number;
  duration_ms: number;
  created_at: string;
}

function toReport(row: Row): Report {
  return {
    id: row.id,
    url: row.url,
    internal: row.internal,
    external: row.external,
    finalUrl: row.final_url,
    status: row.status,
    bytes: row.bytes,
    redirects: row.redirects,
    durationMs: row.duration_ms,
    createdAt: row.created_at,
  };
}

export const DATABASE_FILE = 'stagecraft.db';

/**
 * Below this much free space on the data volume the store reports itself not
 * writable: SQLite needs room for the WAL and a checkpoint, and a readiness
 * probe that fails early beats a write that fails half-way.
 */
export const MIN_FREE_BYTES = 1024 * 1024;
/**
 * The SQLite store. Its work is synchronous (better-sqlite3): each method does it
 * at once and returns a settled promise, so the routes treat both stores alike.
 * `db` and the sync methods stay open to the tests of SQLite's own behaviour.
 */
export class SqliteReportsStore implements ReportsStore {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement<[number], Row>;
  private readonly deleteStmt: Database.Statement<[number]>;
  private readonly firstPageStmt: Database.Statement<[number], Row>;
  private readonly pageStmt: Database.Statement<[number, number], Row>;

  /** Opened on a read-only volume: reads work, every write answers 503. */
  readonly readOnly: boolean;
  private lastWriteFailure = 0;
  private readonly freeBytes: (dir: string) => number;

  constructor(
    private readonly dataDir: string,
    options: { busyTimeoutMs?: number; freeBytes?: (dir: string) => number } = {},
  ) {
    this.freeBytes = options.freeBytes ?? freeBytesOf;
    const file = join(dataDir, DATABASE_FILE);
    const timeout = options.busyTimeoutMs ?? 5_000;
    let db: Database.Database;
    try {
      mkdirSync(dataDir, { recursive: true });
      db = new Database(file, { timeout });
      db.pragma('journal_mode = WAL');
      this.readOnly = false;
    } catch (error) {
      // A volume that is read-only (or full) at start: serve what is there rather than nothing.
      if (!isStorageUnavailable(error) || !existsSync(file)) throw error;
      db = readOnlySnapshot(file);
      this.readOnly = true;
    }
    this.db = db;
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    if (this.readOnly) this.checkSchema();
    else this.migrate();
    this.insertStmt = this.db.prepare(
      `INSERT INTO reports (url, internal, external, final_url, status, bytes, redirects, duration_ms, created_at)
       VALUES (@url, @internal, @external, @finalUrl, @status, @bytes, @redirects, @durationMs, @createdAt)`,
    );
    this.getStmt = this.db.prepare('SELECT * FROM reports WHERE id = ?');
    this.deleteStmt = this.db.prepare('DELETE FROM reports WHERE id = ?');
    this.firstPageStmt = this.db.prepare('SELECT * FROM reports ORDER BY id DESC LIMIT ?');
    this.pageStmt = this.db.prepare('SELECT * FROM reports WHERE id < ? ORDER BY id DESC LIMIT ?');
  }

  /** Read-only: nothing can be migrated, so the file must already be at this build's version. */
  private checkSchema(): void {
    const applied = this.db.pragma('user_version', { simple: true }) as number;
    if (applied !== MIGRATIONS.length) {
      throw new Error(
        `read-only database is at schema version ${applied}, this build needs ${MIGRATIONS.length}`,
      );
    }
  }

  /** Runs the migrations this file has not seen yet; returns how many ran. */
  private migrate(): number {
    const applied = this.db.pragma('user_version', { simple: true }) as number;
    if (applied > MIGRATIONS.length) {
      throw new Error(
        `database schema version ${applied} is newer than this build knows (${MIGRATIONS.length})`,
      );
    }
    const run = this.db.transaction((from: number) => {
      for (let v = from; v < MIGRATIONS.length; v++) {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }
    });
    // IMMEDIATE: two processes starting together must not both migrate.
    run.immediate(applied);
    return MIGRATIONS.length - applied;
  }

  async schemaVersion(): Promise<number> {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * Stores a report and returns it as stored. run(), not get() on an INSERT ...
   * RETURNING: get() stops after the first row, and an autocommit whose COMMIT
   * then fails (SQLITE_FULL on a full disk) went unreported, so the client got
   * a 201 for a row that was never written. run() steps to the end and throws.
   */
  async insert(report: NewReport): Promise<Report> {
    return this.write(() => {
      const { lastInsertRowid } = this.insertStmt.run({ ...report, createdAt: new Date().toISOString() });
      const row = this.getStmt.get(Number(lastInsertRowid));
      if (row === undefined) throw new Error(`report ${lastInsertRowid} missing right after its insert`);
      return toReport(row);
    });
  }

  async get(id: number): Promise<Report | undefined> {
    const row = this.getStmt.get(id);
    return row === undefined ? undefined : toReport(row);
  }

  async delete(id: number): Promise<boolean> {
    return this.write(() => this.deleteStmt.run(id).changes > 0);
  }

  /** Runs a write, remembering a storage failure so readiness can report it. */
  private write<T>(action: () => T): T {
    try {
      const result = action();
      this.lastWriteFailure = 0;
      return result;
    } catch (error) {
      if (isStorageUnavailable(error)) this.lastWriteFailure = Date.now();
      throw error;
    }
  }

  /** Newest first; `cursor` continues after the last item of a previous page. */
  async list(limit: number, cursor?: string): Promise<Page> {
    const rows =
      cursor === undefined
        ? this.firstPageStmt.all(limit + 1)
        : this.pageStmt.all(decodeCursor(cursor), limit + 1);
    return pageOf(rows.map(toReport), limit);
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM reports').get() as { n: number }).n;
  }

  /** What readiness reports: can the database be read, and would a write succeed? */
  async health(): Promise<StorageHealth> {
    let readable: boolean;
    try {
      readable = this.db.open && this.db.prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      readable = false;
    }
    return { readable, writable: readable && this.writable() };
  }

  private writable(): boolean {
    if (this.readOnly) return false;
    if (this.lastWriteFailure !== 0 && Date.now() - this.lastWriteFailure < WRITE_FAILURE_MEMORY_MS)
      return false;
    try {
      accessSync(this.dataDir, constants.W_OK);
      return this.freeBytes(this.dataDir) >= MIN_FREE_BYTES;
    } catch {
      return false;
    }
  }

  /** Closes at once (nothing in it awaits): a process about to exit may call it and go. */
  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** What the gauge stagecraft_storage_free_bytes reports too (free-space.ts). */
function freeBytesOf(dir: string): number {
  return freeSpaceOf(dir).free;
}

/**
 * A WAL database on a read-only volume cannot be opened in place: SQLite must
 * create its -shm file there. So copy the database and its -wal (which holds
 * whatever a crash left un-checkpointed) to a private temporary folder and open
 * the copy, read-only. If even that fails (no room in the temporary folder), read
 * the database file alone into memory, marked as a rollback-journal database
 * (header bytes 18-19) so it opens without a -shm: -wal content is then missing.
 */
function readOnlySnapshot(file: string): Database.Database {
  let copy: string | undefined;
  try {
    copy = mkdtempSync(join(tmpdir(), 'stagecraft-ro-'));
    copyFileSync(file, join(copy, DATABASE_FILE));
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, join(copy, `${DATABASE_FILE}-wal`));
    const db = new Database(join(copy, DATABASE_FILE));
    db.pragma('query_only = ON');
    return db;
  } catch {
    if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
  }
  const image = readFileSync(file);
  if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  const db = new Database(image);
  db.pragma('query_only = ON');
  return db;
}
