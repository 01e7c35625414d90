/**
 * Route labels for metrics, from the API's own OpenAPI document in
 * @stagecraft/contract (the single source of truth for its routes). A concrete
 * path becomes its template (/api/v1/reports/42 -> /api/v1/reports/{id}) as the
 * contract's matcher reads it, the way the API's router does, so a request the
 * API serves is labelled with the route that served it; anything else becomes
 * "unmatched", so label cardinality stays bounded whatever paths clients send.
 */
import { RouteMatcher, openApiDocument, pathOf, type OpenApiDocument } from '@stagecraft/contract';

export const UNMATCHED = 'unmatched';

export class RouteLabels {
  private readonly matcher: RouteMatcher;

  constructor(document: OpenApiDocument = openApiDocument) {
    this.matcher = RouteMatcher.fromDocument(document);
  }

  /** How many templates there are to label with (besides "unmatched"). */
  get size(): number {
    return this.matcher.size;
  }

  /** The template for a request target (query and fragment ignored), or "unmatched". */
  label(url: string): string {
    return this.matcher.match(url) ?? UNMATCHED;
  }
}

/** %XX sequences decoded byte by byte; malformed ones are left as they are (never throws). */
function percentDecode(text: string): string {
  return text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Whether a request target names a metrics path in any spelling some hop could
 * read as one: a segment that is "metrics" in any letter case, percent-decoded
 * (up to three times, for double encodings), with any ;parameters dropped, with
 * / or \ as separators. It mirrors the gateway's `(^|/)metrics(/|$)` refusal. The API
 * serves no /metrics on its main port at all: this is the second lock.
 */
export function namesMetrics(target: string): boolean {
  let path = pathOf(target);
  const encoded = path.includes('%');
  if (!encoded && !/metrics/i.test(path)) return false; // the common case, one scan
  for (let round = 0; encoded && round < 3; round++) {
    const decoded = percentDecode(path);
    if (decoded === path) break;
    path = decoded;
  }
  for (const segment of path.toLowerCase().split(/[/\\]/)) {
    const semicolon = segment.indexOf(';');
    if ((semicolon < 0 ? segment : segment.slice(0, semicolon)) === 'metrics') return true;
  }
  return false;
}
