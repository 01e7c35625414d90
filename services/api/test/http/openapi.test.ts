/** The OpenAPI document and the app agree: every route served is documented, and every documented route is served. */
import { openApiDocument, routeTemplates } from '@stagecraft/contract';
import type { Express } from 'express';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createApiMetrics } from '../../src/metrics.js';
import type { ReportsStore } from '../../src/storage/reports-store.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Walks Express 5's router stack for every (method, path) the app registers. */
function servedRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) {
          out.push(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out.sort();
}

describe('OpenAPI document', () => {
  const app = createApp({
    config: loadConfig({}),
    store: {} as ReportsStore, // never called: routes are only listed
    logger: createLogger('silent'),
    metrics: createApiMetrics(() => 0),
    fetchOptions: () => {
      throw new Error('not used');
    },
    draining: () => false,
  });

  it('lists exactly the routes the app serves', () => {
    const documented = routeTemplates()
      .map((r) => `${r.method} ${r.template}`)
      .sort();
    expect(servedRoutes(app)).toEqual(documented);
    expect(documented.length).toBe(9);
    // Metrics live on METRICS_PORT (ops-routes.ts), never on the port this document describes.
    expect(documented.some((route) => /metrics/i.test(route))).toBe(false);
  });

  it('gives every operation an id and documents its 4xx errors as problem documents', () => {
    const ids = new Set<string>();
    for (const { method, template } of routeTemplates()) {
      const operation = openApiDocument.paths[template]![method.toLowerCase()] as {
        operationId?: string;
        responses: Record<string, { $ref?: string }>;
      };
      expect(operation.operationId, `${method} ${template}`).toBeTypeOf('string');
      ids.add(operation.operationId!);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!status.startsWith('4')) continue;
        // A shared response (Problem, Unauthorized, ...) whose only body is a problem document.
        const name = /^#\/components\/responses\/(\w+)$/.exec(response.$ref ?? '')?.[1];
        expect(name, `${method} ${template} ${status}`).toBeDefined();
        const shared = (openApiDocument.components as { responses: Record<string, { content: object }> })
          .responses[name!]!;
        expect(shared.content, `${method} ${template} ${status}`).toEqual({
          'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
        });
      }
    }
    expect(ids.size).toBe(routeTemplates().length);
  });
});
