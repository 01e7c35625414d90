/**
 * The OpenAPI 3.1 document (openapi.json beside this file) and the route
 * templates derived from it. It is the single source of truth for the API's
 * routes: tests check that the app serves exactly these, and the metrics sidecar
 * labels requests with these templates.
 */
import document from './openapi.json' with { type: 'json' };

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, unknown>;
  [key: string]: unknown;
}

export const openApiDocument: OpenApiDocument = document;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export interface RouteTemplate {
  method: string;
  /** OpenAPI form, e.g. /api/v1/reports/{id} */
  template: string;
}

export function routeTemplates(doc: OpenApiDocument = openApiDocument): RouteTemplate[] {
  return Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.keys(item)
      .filter((key) => HTTP_METHODS.includes(key))
      .map((method) => ({ method: method.toUpperCase(), template })),
  );
}

/** The template a concrete path matches, or undefined. */
export function matchTemplate(path: string, templates: readonly string[]): string | undefined {
  const segments = path.split('/');
  return templates.find((template) => {
    const parts = template.split('/');
    return (
      parts.length === segments.length &&
      parts.every((part, i) =>
        part.startsWith('{') && part.endsWith('}') ? segments[i] !== '' : part === segments[i],
      )
    );
  });
}
