/**
 * Route labels for metrics, from the API's own OpenAPI document (the single source
 * of truth for its routes). A concrete path becomes its template
 * (/api/v1/reports/42 -> /api/v1/reports/{id}); anything else becomes "unmatched",
 * so label cardinality stays bounded whatever paths clients send. Paths are read
 * the way the API's router (Express 5) reads them, so a request the API serves is
 * labelled with the route that served it: letter case ignored, one trailing
 * slash allowed, the fragment dropped, percent-encoding left alone.
 */
import { readFileSync } from 'node:fs';

export const UNMATCHED = 'unmatched';

interface Template {
  template: string;
  segments: (string | null)[]; // null: a {parameter} segment
}

export class RouteLabels {
  private readonly templates: Template[];
  private readonly exact = new Map<string, string>();

  constructor(templates: readonly string[]) {
    this.templates = [];
    for (const template of templates) {
      if (!template.includes('{')) this.exact.set(template.toLowerCase(), template);
      else {
        this.templates.push({
          template,
          segments: template
            .split('/')
            .map((s) => (s.startsWith('{') && s.endsWith('}') ? null : s.toLowerCase())),
        });
      }
    }
  }

  /** Reads the templates from an OpenAPI document on disk; throws a readable error if it is unusable. */
  static fromOpenApiFile(file: string): RouteLabels {
    let doc: { paths?: Record<string, unknown> };
    try {
      doc = JSON.parse(readFileSync(file, 'utf8')) as { paths?: Record<string, unknown> };
    } catch (error) {
      throw new Error(`cannot read route templates from ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const templates = Object.keys(doc.paths ?? {});
    if (templates.length === 0) throw new Error(`${file} lists no paths`);
    return new RouteLabels(templates);
  }

  get size(): number {
    return this.exact.size + this.templates.length;
  }

  /** The template for a request target (query and fragment ignored), or "unmatched". */
  label(url: string): string {
    let path = pathOf(url).toLowerCase();
    // Express's default (non-strict) routing matches /x/ as /x; one slash only.
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const hit = this.exact.get(path);
    if (hit !== undefined) return hit;
    const segments = path.split('/');
    for (const { template, segments: parts } of this.templates) {
      if (
        parts.length === segments.length &&
        parts.every((part, i) => (part === null ? segments[i] !== '' : part === segments[i]))
      ) {
        return template;
      }
    }
    return UNMATCHED;
  }
}

/** The path of a request target: up to its query or fragment, as the API's router reads it. */
export function pathOf(target: string): string {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return target.slice(0, i);
  }
  return target;
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
