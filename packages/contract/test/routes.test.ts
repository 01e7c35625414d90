/**
 * The one route matcher, on the API's own document: paths read as Express 5
 * routes them (the sidecar's route-labels test checks it against Express itself).
 */
import { describe, expect, it } from 'vitest';
import { openApiDocument, routeTemplates } from '../src/openapi.js';
import { RouteMatcher, pathOf } from '../src/routes.js';

describe('routeTemplates', () => {
  it('lists every method of every path, in upper case, and nothing that is not a method', () => {
    const routes = routeTemplates().map((r) => `${r.method} ${r.template}`);
    expect(routes).toContain('GET /api/v1/reports/{id}');
    expect(routes).toContain('DELETE /api/v1/reports/{id}');
    expect(routes).toContain('POST /api/v1/count');
    expect(routes.every((r) => /^(GET|POST|DELETE|PUT|PATCH|HEAD|OPTIONS|TRACE) \//.test(r))).toBe(true);
    const doc = { ...openApiDocument, paths: { '/x/{id}': { parameters: [], get: {}, summary: 'x' } } };
    expect(routeTemplates(doc)).toEqual([{ method: 'GET', template: '/x/{id}' }]);
  });
});

describe('RouteMatcher', () => {
  const matcher = RouteMatcher.fromDocument();

  it('knows every path of the document once', () => {
    expect(matcher.size).toBe(Object.keys(openApiDocument.paths).length);
    expect(new RouteMatcher(['/a', '/a', '/b/{id}']).size).toBe(2);
  });

  it.each([
    ['/api/v1/reports', '/api/v1/reports'],
    ['/api/v1/reports/42', '/api/v1/reports/{id}'],
    ['/api/v1/reports/not-a-number', '/api/v1/reports/{id}'],
    ['/api/v1/count?url=http://x/', '/api/v1/count'],
    ['/api/v1/reports?limit=5#top', '/api/v1/reports'],
    // Express ignores letter case and one trailing slash.
    ['/API/V1/REPORTS/1', '/api/v1/reports/{id}'],
    ['/Api/V1/Reports/7/', '/api/v1/reports/{id}'],
    ['/api/v1/reports/', '/api/v1/reports'],
    ['/HEALTHZ#x', '/healthz'],
    ['/api/v1/OpenAPI.JSON', '/api/v1/openapi.json'],
    // Percent-encoding is left alone: an encoded slash is part of the id.
    ['/api/v1/reports/a%2Fb', '/api/v1/reports/{id}'],
  ])('matches %s to %s', (target, template) => {
    expect(matcher.match(target)).toBe(template);
  });

  it.each([
    '/api/v1/reports//',
    '/api/v1//reports',
    '/api/v1/reports;x',
    '/api/v1/reports/1/extra',
    '/api/v1/reports//1',
    '/api%2Fv1/reports',
    '/metrics',
    '/',
    '',
  ])('matches nothing for %j', (target) => {
    expect(matcher.match(target)).toBeUndefined();
  });

  it('refuses a document without paths', () => {
    expect(() => RouteMatcher.fromDocument({ ...openApiDocument, paths: {} })).toThrow(/lists no paths/);
  });
});

describe('pathOf', () => {
  it.each([
    ['/a?b#c', '/a'],
    ['/a#b?c', '/a'],
    ['/a', '/a'],
    ['?x', ''],
  ])('%s -> %s', (target, path) => {
    expect(pathOf(target)).toBe(path);
  });
});
