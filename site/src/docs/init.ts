/**
 * Starts Swagger UI (loaded just before this file, deferred) on the OpenAPI
 * document the site build copied beside it. A file of its own rather than an
 * inline script, so the site's content security policy needs no 'unsafe-inline'.
 */
declare global {
  interface Window {
    SwaggerUIBundle: (options: Record<string, unknown>) => unknown;
  }
}

window.SwaggerUIBundle({
  url: '/docs/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // Swagger UI would otherwise send the document to a public validator and show
  // its badge: this page talks to its own origin only.
  validatorUrl: null,
  // The reports' bearer token, once typed into Authorize, lasts only as long as the page.
  persistAuthorization: false,
});

export {};
