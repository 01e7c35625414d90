/**
 * The one route-template matcher: which documented template a request target
 * names, read the way the API's router (Express 5, default options) reads a path
 * - letter case ignored, one trailing slash allowed, query and fragment dropped,
 * percent-encoding left alone - so that the sidecar labels a request with the
 * route that served it, and the API's 404/405 fallback agrees with its routes.
 */
import { openApiDocument, type OpenApiDocument } from './openapi.js';

interface Parameterised {
  template: string;
  segments: (string | null)[]; // null: a {parameter} segment
}

export class RouteMatcher {
  private readonly exact = new Map<string, string>();
  private readonly parameterised: Parameterised[] = [];

  constructor(templates: Iterable<string>) {
    for (const template of new Set(templates)) {
      if (!template.includes('{')) this.exact.set(template.toLowerCase(), template);
      else {
        this.parameterised.push({
          template,
          segments: template
            .split('/')
            .map((s) => (s.startsWith('{') && s.endsWith('}') ? null : s.toLowerCase())),
        });
      }
    }
  }

  /** A matcher for every path of an OpenAPI document (the API's own by default). */
  static fromDocument(doc: OpenApiDocument = openApiDocument): RouteMatcher {
    const matcher = new RouteMatcher(Object.keys(doc.paths));
    if (matcher.size === 0) throw new Error('the OpenAPI document lists no paths');
    return matcher;
  }

  /** How many distinct templates it knows. */
  get size(): number {
    return this.exact.size + this.parameterised.length;
  }

  /** The template a request target (or a bare path) names, or undefined. */
  match(target: string): string | undefined {
    let path = pathOf(target).toLowerCase();
    // Express's default (non-strict) routing serves /x/ as /x; one slash only.
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const hit = this.exact.get(path);
    if (hit !== undefined) return hit;
    const segments = path.split('/');
    for (const { template, segments: parts } of this.parameterised) {
      if (
        parts.length === segments.length &&
        parts.every((part, i) => (part === null ? segments[i] !== '' : part === segments[i]))
      ) {
        return template;
      }
    }
    return undefined;
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
