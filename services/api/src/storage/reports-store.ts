/**
 * Reports in SQLite (better-sqlite3): one file under the data directory, WAL
 * journal, full fsync on commit so that a report whose 201 reached the client
 * survives a crash, and a busy timeout so several processes can write one file.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations.js';

export interface NewReport {
  url: string;
  internal: number;
  external: number;
  finalUrl: string;
  status: number;
  bytes: number;
  redirects: number;
  durationMs: number;
}

export interface Report extends NewReport {
  id: number;
  createdAt: string;
}

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

export interface Page {
  items: Report[];
  /** Opaque cursor for the next (older) page, null on the last page. */
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('the cursor is not one this API handed out');
    this.name = 'InvalidCursorError';
  }
}

export const DATABASE_FILE = 'stagecraft.db';

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

  constructor(dataDir: string, options: { busyTimeoutMs?: number } = {}) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, DATABASE_FILE), { timeout: options.busyTimeoutMs ?? 5_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.insertStmt = this.db.prepare(
      `INSERT INTO reports (url, internal, external, final_url, status, bytes, redirects, duration_ms, created_at)
       VALUES (@url, @internal, @external, @finalUrl, @status, @bytes, @redirects, @durationMs, @createdAt)
       RETURNING *`,
    );
    this.getStmt = this.db.prepare('SELECT * FROM reports WHERE id = ?');
    this.deleteStmt = this.db.prepare('DELETE FROM reports WHERE id = ?');
    this.firstPageStmt = this.db.prepare('SELECT * FROM reports ORDER BY id DESC LIMIT ?');
    this.pageStmt = this.db.prepare('SELECT * FROM reports WHERE id < ? ORDER BY id DESC LIMIT ?');
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

  insert(report: NewReport): Report {
    const row = this.insertStmt.get({ ...report, createdAt: new Date().toISOString() }) as Row;
    return toReport(row);
  }

  get(id: number): Report | undefined {
    const row = this.getStmt.get(id);
    return row === undefined ? undefined : toReport(row);
  }

  delete(id: number): boolean {
    return this.deleteStmt.run(id).changes > 0;
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

  /** True when the database answers a query (readiness). */
  healthy(): boolean {
    try {
      return this.db.open && this.db.prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
