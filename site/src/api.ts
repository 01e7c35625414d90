/**
 * The page's calls to the API, on this same origin (the site's content security
 * policy allows no other: connect-src 'self'). Errors arrive as RFC 9457 problem
 * documents; each becomes an ApiError whose message is the document's own words.
 */

// The answers' shapes are the contract's (the API builds them from the same
// types): type-only, so nothing of the package reaches the page's bundle.
import type { BodyCount, FetchFacts, PageCount, Report, ReportPage } from '@stagecraft/contract/answers';

export type { FetchFacts, Report, ReportPage };
/** GET /api/v1/count's answer (CountResult in the OpenAPI document). */
export type CountResult = PageCount;
/** POST /api/v1/count's answer (BodyCountResult). */
export type BodyCountResult = BodyCount;

/** What the gateway tells the page about its deployment (/site.json). */
export interface SiteConfig {
  /** Prometheus's targets page, where the deployment publishes one (development); "" otherwise. */
  prometheusTargets: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The session-only home of the API's token: this tab, until it closes. */
const TOKEN_KEY = 'stagecraft.apiToken';

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value.trim()),
  forget: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** A call whose answer is JSON; anything but 2xx throws an ApiError with the problem's title and detail. */
export async function callApi<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'application/json');
  // Only the reports need the token; counting is public and never sees it.
  const saved = token.get();
  if (path.startsWith('/api/v1/reports') && saved !== null) headers.set('authorization', `Bearer ${saved}`);
  const response = await fetch(path, { ...init, headers });
  const text = await response.text();
  if (response.ok) return JSON.parse(text) as T;
  let message = `${response.status} ${response.statusText}`;
  try {
    const problem = JSON.parse(text) as { title?: string; detail?: string };
    message = [problem.title, problem.detail].filter(Boolean).join(': ') || message;
  } catch {
    // Not a problem document (a proxy's page, say): the status line says enough.
  }
  throw new ApiError(response.status, message);
}
