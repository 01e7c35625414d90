/**
 * The API's OpenAPI 3.1 document (openapi.json beside this file): the single
 * source of truth for its routes. The API serves it and its tests check that the
 * app serves exactly these routes; the sidecar labels its metrics with these
 * templates.
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
  /** Upper case, as on the wire: GET, POST, ... */
  method: string;
  /** OpenAPI form, e.g. /api/v1/reports/{id} */
  template: string;
}

/** Every (method, template) pair the document lists; path-level keys such as `parameters` are not methods. */
export function routeTemplates(doc: OpenApiDocument = openApiDocument): RouteTemplate[] {
  return Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.keys(item)
      .filter((key) => HTTP_METHODS.includes(key))
      .map((method) => ({ method: method.toUpperCase(), template })),
  );
}
