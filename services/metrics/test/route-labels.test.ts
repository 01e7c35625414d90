import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTES_FILE } from '../src/config.js';
import { methodLabel } from '../src/red-metrics.js';
import { RouteLabels, UNMATCHED } from '../src/route-labels.js';

describe('RouteLabels from the API OpenAPI document', () => {
  const labels = RouteLabels.fromOpenApiFile(DEFAULT_ROUTES_FILE);

  it('reads every path of the document', () => {
    expect(labels.size).toBe(7);
  });

  it.each([
    ['/api/v1/count?url=http://x/', '/api/v1/count'],
    ['/api/v1/reports', '/api/v1/reports'],
    ['/api/v1/reports?limit=5', '/api/v1/reports'],
    ['/api/v1/reports/123', '/api/v1/reports/{id}'],
    ['/api/v1/reports/not-a-number', '/api/v1/reports/{id}'],
    ['/healthz', '/healthz'],
    ['/api/v1/reports/', UNMATCHED],
    ['/api/v1/reports/1/extra', UNMATCHED],
    ['/API/v1/reports', UNMATCHED],
    ['/random/path', UNMATCHED],
    ['', UNMATCHED],
  ])('labels %s as %s', (path, label) => {
    expect(labels.label(path)).toBe(label);
  });

  it('refuses an unusable document', () => {
    expect(() => RouteLabels.fromOpenApiFile('/nonexistent.json')).toThrow(/cannot read route templates/);
  });
});

describe('methodLabel', () => {
  it.each([
    ['GET', 'GET'],
    ['delete', 'DELETE'],
    ['PURGE', '_OTHER'],
    [undefined, '_OTHER'],
  ])('%s -> %s', (method, label) => {
    expect(methodLabel(method)).toBe(label);
  });
});
