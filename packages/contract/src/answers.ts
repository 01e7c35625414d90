/**
 * The JSON bodies of the API's answers, as TypeScript types: what the API builds
 * and what a client (the page at /) reads. The OpenAPI document's schemas of the
 * same names are the contract; services/api/test/helpers/openapi-validator.ts
 * checks every answer the API tests receive against them, so these types and
 * the document cannot drift without a failing test.
 */

/** What fetching the page did (FetchFacts). */
export interface FetchFacts {
  finalUrl: string;
  status: number;
  contentType: string;
  bytes: number;
  redirects: number;
  durationMs: number;
}

/** GET /api/v1/count (CountResult). */
export interface PageCount {
  url: string;
  internal: number;
  external: number;
  fetch: FetchFacts;
}

/** POST /api/v1/count (BodyCountResult). */
export interface BodyCount {
  base: string;
  internal: number;
  external: number;
  bytes: number;
}

/** A report to keep: a page count flattened (the stored columns). */
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

/** A kept report (Report). */
export interface Report extends NewReport {
  id: number;
  createdAt: string;
}

/** GET /api/v1/reports (ReportPage). */
export interface ReportPage {
  items: Report[];
  nextCursor: string | null;
}
