/**
 * What the routes need of a place that keeps reports, whichever database holds
 * them: SQLite on the data volume (reports-store.ts, the default) or PostgreSQL
 * over the network (postgres-store.ts, when DATABASE_URL or DATABASE_URL_FILE is
 * set). Asynchronous because a networked database is; the SQLite store answers
 * at once. Both keep the same shapes, cursors and errors, so the HTTP layer
 * cannot tell them apart (test/http runs against both).
 */
import type { NewReport, Report, ReportPage } from '@stagecraft/contract';
export type { NewReport, Report };

/** A page of reports, newest first; nextCursor is opaque, null on the last page. */
export type Page = ReportPage;

export interface StorageHealth {
  /** The database answers a query. */
  readable: boolean;
  /** A write would be expected to succeed: database reachable and writable, no recent write failure. */
  writable: boolean;
}

export interface ReportsStore {
  /** Which database: the startup line says it, the tests pick by it. */
  readonly kind: 'sqlite' | 'postgres';
  /** Stores a report and returns it as stored, once it is durable (its 201 may then be sent). */
  insert(report: NewReport): Promise<Report>;
  get(id: number): Promise<Report | undefined>;
  /** False when there was no such report. */
  delete(id: number): Promise<boolean>;
  /** Newest first; `cursor` continues after the last item of a previous page. */
  list(limit: number, cursor?: string): Promise<Page>;
  count(): Promise<number>;
  /** What readiness reports; never throws. */
  health(): Promise<StorageHealth>;
  /** How many migrations the database has seen. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('the cursor is not one this API handed out');
    this.name = 'InvalidCursorError';
  }
}

/**
 * The database cannot serve the request right now (unreachable, restarting, out
 * of connections, too slow): a 503, not a 500. Its message never holds the
 * connection string; the driver's error stays on `cause` for the log.
 */
export class StorageUnavailableError extends Error {
  readonly code = 'STORAGE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/** SQLite, the file system or the database server says the store cannot take the request now. */
export function isStorageUnavailable(error: unknown): boolean {
  if (error instanceof StorageUnavailableError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (/^SQLITE_(READONLY|FULL|IOERR|CANTOPEN|BUSY|LOCKED)/.test(code) ||
      ['EROFS', 'ENOSPC', 'EACCES', 'EPERM'].includes(code))
  );
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

/** A page from rows fetched with limit + 1: the extra row says whether there is a next page. */
export function pageOf(reports: Report[], limit: number): Page {
  const items = reports.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: reports.length > limit && last !== undefined ? encodeCursor(last.id) : null,
  };
}

/** After a failed write, a store counts as not writable until a write succeeds or this long passes. */
export const WRITE_FAILURE_MEMORY_MS = 10_000;
