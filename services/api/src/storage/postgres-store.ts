/**
 * Reports in PostgreSQL (node-postgres), the networked store: every API replica,
 * on any node, shares one database. Chosen by DATABASE_URL_FILE or DATABASE_URL
 * (config.ts). A pool of DATABASE_POOL_SIZE connections; each query bounded by
 * DATABASE_STATEMENT_TIMEOUT_MS (on the server, and on the client a second later
 * for a server that stops answering), each wait for a connection by
 * DATABASE_CONNECT_TIMEOUT_MS. A database that is restarting, unreachable or too
 * slow makes the call fail with StorageUnavailableError (the API's 503), and the
 * pool reconnects by itself once it is back: the API needs no restart.
 *
 * An INSERT is acknowledged by PostgreSQL once its commit is durable
 * (synchronous_commit is on by default), so a 201 means the report survives a
 * crash of the API or of the database.
 */
import pg from 'pg';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import {
  StorageUnavailableError,
  WRITE_FAILURE_MEMORY_MS,
  decodeCursor,
  pageOf,
  type NewReport,
  type Page,
  type Report,
  type ReportsStore,
  type StorageHealth,
} from './store.js';

export interface PostgresOptions {
  /** postgres://user:password@host:port/database; never logged. */
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /**
   * Told of what the store cannot throw to a caller: a pooled connection lost
   * while idle (a database restart), and each failure it turns into a 503.
   * Gets the driver's code and message, never the connection string.
   */
  onProblem?: (event: string, detail: { code?: string; message: string }) => void;
}

interface Row {
  id: string;
  url: string;
  internal: number;
  external: number;
  final_url: string;
  status: number;
  bytes: string;
  redirects: number;
  duration_ms: number;
  created_at: Date;
}

function toReport(row: Row): Report {
  return {
    id: Number(row.id),
    url: row.url,
    internal: row.internal,
    external: row.external,
    finalUrl: row.final_url,
    status: row.status,
    bytes: Number(row.bytes),
    redirects: row.redirects,
    durationMs: row.duration_ms,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * Whether a driver error means "not now" (a 503) rather than a bug (a 500).
 * SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many
 * connections, disk full), 57 operator intervention (shutting down, starting up,
 * a statement cancelled by statement_timeout), 58 system error; 25006 a write on
 * a read-only server (a standby). Without a SQLSTATE: the socket's errors
 * (refused, reset, unreachable, a name that does not resolve) and the driver's
 * own (connection terminated, timeouts).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof pg.DatabaseError)
    return /^(08|53|57|58)/.test(error.code ?? '') || error.code === '25006';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /connection terminated|timeout|connection error|not queryable|pool after calling end/i.test(message);
}

/** The URL without its password, for the start-up line: postgres://user@host:5432/database. */
export function describeDatabase(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  parsed.search = '';
  return parsed.toString();
}

/**
 * `text` with the connection string, and its password alone, replaced: for the
 * lines that quote a driver's message (node-postgres puts neither in its
 * messages, but a future version or a URL typed into the wrong place might).
 */
export function redactDatabaseUrl(text: string, url: string): string {
  let out = text.replaceAll(url, '(database URL)');
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password !== '') out = out.replaceAll(password, '(password)');
  } catch {
    // not a URL: the whole string was replaced above
  }
  return out;
}

/** Serialises migrations across replicas that start together (any constant; this one spells "stgc"). */
const MIGRATION_LOCK = 0x73746763;

export class PostgresReportsStore implements ReportsStore {
  readonly kind = 'postgres' as const;
  private lastWriteFailure = 0;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly report: NonNullable<PostgresOptions['onProblem']>,
  ) {}

  /** Connects, runs the migrations this database has not seen, and returns the store. */
  static async open(options: PostgresOptions): Promise<PostgresReportsStore> {
    const report = options.onProblem ?? (() => undefined);
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      // The server cancels a statement at this; the client gives up a second later
      // on a server that no longer answers at all (a network partition).
      statement_timeout: options.statementTimeoutMs,
      query_timeout: options.statementTimeoutMs + 1_000,
      idleTimeoutMillis: 30_000,
      // Kept open while idle (warm() opens them at start): a replica that has just
      // started, or sat idle, then serves its first burst without paying for a
      // connection's set-up (TCP, SCRAM) on each request.
      min: options.poolSize,
      keepAlive: true,
      application_name: 'stagecraft-api',
    });
    // A pooled connection that dies while idle (the database restarting) is
    // reported here; without a listener Node would end the process.
    pool.on('error', (error: Error & { code?: string }) =>
      report('idle database connection lost', { code: error.code, message: error.message }),
    );
    const store = new PostgresReportsStore(pool, report);
    try {
      await store.migrate();
      await store.warm(options.poolSize);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return store;
  }

  /** Runs the pending migrations in one transaction, under a lock two starting replicas share. */
  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS stagecraft_schema (version integer NOT NULL)');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM stagecraft_schema');
      const applied = rows[0]?.version ?? 0;
      if (applied > POSTGRES_MIGRATIONS.length)
        throw new Error(
          `database schema version ${applied} is newer than this build knows (${POSTGRES_MIGRATIONS.length})`,
        );
      for (let v = applied; v < POSTGRES_MIGRATIONS.length; v++) await client.query(POSTGRES_MIGRATIONS[v]!);
      if (rows.length === 0)
        await client.query('INSERT INTO stagecraft_schema (version) VALUES ($1)', [
          POSTGRES_MIGRATIONS.length,
        ]);
      else await client.query('UPDATE stagecraft_schema SET version = $1', [POSTGRES_MIGRATIONS.length]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Opens every connection of the pool before the replica reports ready. Seen in
   * e2e/reliability-postgres.test.ts: a replica back from a rolling restart took
   * half the traffic on a cold pool, and its first second's requests queued
   * behind connection set-ups.
   */
  private async warm(size: number): Promise<void> {
    const clients = await Promise.all(Array.from({ length: size }, () => this.pool.connect()));
    for (const client of clients) client.release();
  }

  /** Runs one call, turning a database that cannot serve it now into StorageUnavailableError. */
  private async call<T>(write: boolean, action: () => Promise<T>): Promise<T> {
    try {
      const result = await action();
      if (write) this.lastWriteFailure = 0;
      return result;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      // Remembered for readiness only when a query cannot see it: the server took
      // the connection but refused the write (disk full, read-only). A lost
      // connection is what health()'s own query finds, and it recovers with it.
      if (write && error instanceof pg.DatabaseError && /^(53|25)/.test(error.code ?? ''))
        this.lastWriteFailure = Date.now();
      const { code, message } = error as { code?: string; message: string };
      this.report('database unavailable', { code, message });
      throw new StorageUnavailableError('the database cannot serve the request now', { cause: error });
    }
  }

  async schemaVersion(): Promise<number> {
    return this.call(false, async () => {
      const { rows } = await this.pool.query<{ version: number }>('SELECT version FROM stagecraft_schema');
      return rows[0]?.version ?? 0;
    });
  }

  async insert(report: NewReport): Promise<Report> {
    return this.call(true, async () => {
      const { rows } = await this.pool.query<Row>(
        `INSERT INTO reports (url, internal, external, final_url, status, bytes, redirects, duration_ms, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [
          report.url,
          report.internal,
          report.external,
          report.finalUrl,
          report.status,
          report.bytes,
          report.redirects,
          report.durationMs,
          new Date().toISOString(),
        ],
      );
      return toReport(rows[0]!);
    });
  }

  async get(id: number): Promise<Report | undefined> {
    return this.call(false, async () => {
      const { rows } = await this.pool.query<Row>('SELECT * FROM reports WHERE id = $1', [id]);
      return rows[0] === undefined ? undefined : toReport(rows[0]);
    });
  }

  async delete(id: number): Promise<boolean> {
    return this.call(true, async () => {
      const { rowCount } = await this.pool.query('DELETE FROM reports WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    });
  }

  async list(limit: number, cursor?: string): Promise<Page> {
    const before = cursor === undefined ? undefined : decodeCursor(cursor);
    return this.call(false, async () => {
      const { rows } =
        before === undefined
          ? await this.pool.query<Row>('SELECT * FROM reports ORDER BY id DESC LIMIT $1', [limit + 1])
          : await this.pool.query<Row>('SELECT * FROM reports WHERE id < $1 ORDER BY id DESC LIMIT $2', [
              before,
              limit + 1,
            ]);
      return pageOf(rows.map(toReport), limit);
    });
  }

  async count(): Promise<number> {
    return this.call(false, async () => {
      const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM reports');
      return Number(rows[0]!.n);
    });
  }

  /**
   * Readable: the database answers within the connection and statement timeouts.
   * Writable: it is not read-only (a standby, or default_transaction_read_only)
   * and no write was refused for want of room or of write access in the last 10 s.
   */
  async health(): Promise<StorageHealth> {
    try {
      const { rows } = await this.pool.query<{ ro: string }>(
        "SELECT current_setting('transaction_read_only') AS ro",
      );
      const recentFailure =
        this.lastWriteFailure !== 0 && Date.now() - this.lastWriteFailure < WRITE_FAILURE_MEMORY_MS;
      return { readable: true, writable: rows[0]?.ro === 'off' && !recentFailure };
    } catch {
      return { readable: false, writable: false };
    }
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
