/**
 * Route labels for metrics, from the API's own OpenAPI document (the single source
 * of truth for its routes). A concrete path becomes its template
 * (/api/v1/reports/42 -> /api/v1/reports/{id}); anything else becomes "unmatched",
 * so label cardinality stays bounded whatever paths clients send.
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
      if (!template.includes('{')) this.exact.set(template, template);
      else {
        this.templates.push({
          template,
          segments: template.split('/').map((s) => (s.startsWith('{') && s.endsWith('}') ? null : s)),
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

  /** The template for a request path (query string ignored), or "unmatched". */
  label(url: string): string {
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
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
