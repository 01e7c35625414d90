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

/** What is kept and read back: the contract's shapes, which the page at / reads too. */
import type { NewReport, Report, ReportPage } from '@stagecraft/contract';
export type { NewReport, Report };

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

/** A page of reports, newest first; nextCursor is opaque, null on the last page. */
export type Page = ReportPage;

export class InvalidCursorError extends Error {
  constructor() {
    super('the cursor is not one this API handed out');
    this.name = 'InvalidCursorError';
  }
}

export const DATABASE_FILE = 'stagecraft.db';

/**
 * Below this much free space on the data volume the store reports itself not
 * writable: SQLite needs room for the WAL and a checkpoint, and a readiness
 * probe that fails early beats a write that fails half-way.
 */
export const MIN_FREE_BYTES = 1024 * 1024;
/** After a failed write, the store counts as not writable until a write succeeds or this long passes. */
const WRITE_FAILURE_MEMORY_MS = 10_000;

/** SQLite or the file system says the disk or the file cannot take writes. */
export function isStorageUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (/^SQLITE_(READONLY|FULL|IOERR|CANTOPEN|BUSY|LOCKED)/.test(code) ||
      ['EROFS', 'ENOSPC', 'EACCES', 'EPERM'].includes(code))
  );
}

export interface StorageHealth {
  /** The database answers a query. */
  readable: boolean;
  /** A write would be expected to succeed: volume writable, space left, no recent write failure. */
  writable: boolean;
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

export function encodeCursor(id: number): string {
  return Buffer.from(JSON.stringify({ before: id })).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { before?: unknown };
    if (Number.isSafeInteger(parsed.before) && (parsed.before as number) > 0) return parsed.before as number;
  } catch {
    // fall through to the error below
  }
  throw new InvalidCursorError();
}

export class ReportsStore {
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

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * Stores a report and returns it as stored. run(), not get() on an INSERT ...
   * RETURNING: get() stops after the first row, and an autocommit whose COMMIT
   * then fails (SQLITE_FULL on a full disk) went unreported, so the client got
   * a 201 for a row that was never written. run() steps to the end and throws.
   */
  insert(report: NewReport): Report {
    return this.write(() => {
      const { lastInsertRowid } = this.insertStmt.run({ ...report, createdAt: new Date().toISOString() });
      const row = this.getStmt.get(Number(lastInsertRowid));
      if (row === undefined) throw new Error(`report ${lastInsertRowid} missing right after its insert`);
      return toReport(row);
    });
  }

  get(id: number): Report | undefined {
    const row = this.getStmt.get(id);
    return row === undefined ? undefined : toReport(row);
  }

  delete(id: number): boolean {
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
  list(limit: number, cursor?: string): Page {
    const rows =
      cursor === undefined
        ? this.firstPageStmt.all(limit + 1)
        : this.pageStmt.all(decodeCursor(cursor), limit + 1);
    const items = rows.slice(0, limit).map(toReport);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.id) : null };
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM reports').get() as { n: number }).n;
  }

  /** What readiness reports: can the database be read, and would a write succeed? */
  health(): StorageHealth {
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

  close(): void {
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
