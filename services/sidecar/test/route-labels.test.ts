/**
 * Route labels from the API's OpenAPI document (@stagecraft/contract's matcher),
 * checked against Express 5's own routing of the same templates (case, trailing
 * slashes, encoded slashes, `//`, `;`), and the refusal of metrics paths in every
 * spelling.
 */
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { openApiDocument } from '@stagecraft/contract';
import express, { type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodLabel } from '../src/red-metrics.js';
import { RouteLabels, UNMATCHED, namesMetrics } from '../src/route-labels.js';

describe('RouteLabels from the API OpenAPI document', () => {
  const labels = new RouteLabels();

  it('reads every path of the document', () => {
    expect(labels.size).toBe(6);
  });

  it.each([
    ['/api/v1/count?url=http://x/', '/api/v1/count'],
    ['/api/v1/reports', '/api/v1/reports'],
    ['/api/v1/reports?limit=5', '/api/v1/reports'],
    ['/api/v1/reports/123', '/api/v1/reports/{id}'],
    ['/api/v1/reports/not-a-number', '/api/v1/reports/{id}'],
    ['/healthz', '/healthz'],
    // As Express routes them: any letter case, one trailing slash, no fragment.
    ['/api/v1/reports/', '/api/v1/reports'],
    ['/API/V1/REPORTS', '/api/v1/reports'],
    ['/Api/V1/Reports/7/', '/api/v1/reports/{id}'],
    ['/HEALTHZ#x', '/healthz'],
    ['/api/v1/reports//', UNMATCHED],
    ['/api/v1//reports', UNMATCHED],
    ['/api/v1/reports;x', UNMATCHED],
    ['/api/v1/reports/1/extra', UNMATCHED],
    ['/metrics', UNMATCHED],
    ['/random/path', UNMATCHED],
    ['', UNMATCHED],
  ])('labels %s as %s', (path, label) => {
    expect(labels.label(path)).toBe(label);
  });

  it('refuses a document without paths', () => {
    expect(() => new RouteLabels({ ...openApiDocument, paths: {} })).toThrow(/lists no paths/);
  });
});

describe('methodLabel', () => {
  it.each([
    ['GET', 'GET'],
    ['delete', 'DELETE'],
    ['QUERY', 'QUERY'],
    ['PURGE', '_OTHER'],
    [undefined, '_OTHER'],
  ])('%s -> %s', (method, label) => {
    expect(methodLabel(method)).toBe(label);
  });
});

describe('labels agree with the API router', () => {
  // The API registers its routes on express.Router() with the default options, the
  // templates' {id} as :id. Build the same router from the same document and ask
  // Express which route serves each path: the label must name that route.
  const labels = new RouteLabels();
  const router = express.Router();
  for (const template of Object.keys(openApiDocument.paths)) {
    router.all(template.replace(/\{(\w+)\}/g, ':$1'), (req: Request, res: Response) => {
      res.json({ route: template, path: (req.route as { path: string }).path });
    });
  }
  const app = express();
  app.use(router);
  app.use((_req: Request, res: Response) => res.json({ route: UNMATCHED }));
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** The route Express serves a raw request target with, sent byte for byte. */
  function servedRoute(target: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString();
        resolve((JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { route: string }).route);
      });
      socket.end(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
  }

  const pieces = [
    'api',
    'API',
    'v1',
    'V1',
    'reports',
    'Reports',
    'count',
    'healthz',
    'HealthZ',
    'readyz',
    'openapi.json',
  ];
  const tails = ['', '/', '//', ';x', '%2F', '#frag', '?q=1', '?a=/b#c', '/.', '/..'];
  const ids = ['1', '%31', '1;x', '..', 'a%2Fb', ''];
  const targets = new Set<string>([
    '/api/v1/reports',
    '/api/v1/reports/',
    '/API/V1/REPORTS/',
    '/api/v1/reports/7/',
    '/healthz#x',
    '/api//v1/reports',
    '//api/v1/reports',
    '/api/v1/./reports',
    '/api%2Fv1/reports',
    '/api/v1/OpenAPI.JSON',
  ]);
  // A deterministic spread of combinations (a linear congruential generator, seeded).
  let seed = 42;
  const pick = <T>(list: readonly T[]): T => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return list[(seed >>> 16) % list.length]!; // the low bits of an LCG cycle too soon
  };
  for (let tries = 0; targets.size < 300 && tries < 100_000; tries++) {
    const depth = 1 + (pick([0, 1, 2, 3]) as number);
    const segments = Array.from({ length: depth }, () => pick(pieces));
    if (pick([true, false])) segments.push(pick(ids));
    targets.add(`/${segments.join('/')}${pick(tails)}`);
  }

  it('labels 300 tricky targets with the route Express serves them with', async () => {
    expect(targets.size).toBe(300);
    const mismatches: string[] = [];
    for (const target of targets) {
      const served = await servedRoute(target);
      if (labels.label(target) !== served)
        mismatches.push(`${target}: label ${labels.label(target)}, served ${served}`);
    }
    expect(mismatches).toEqual([]);
  });
});

describe('namesMetrics', () => {
  it.each([
    '/metrics',
    '/METRICS',
    '/Metrics',
    '/metrics#x',
    '/metrics?x=1',
    '/metrics/',
    '/metrics;jsessionid=1',
    '/%6detrics',
    '/%256Detrics',
    '/api/v1/../metrics',
    '/api/v1/reports;/../../metrics',
    '/api%2Fmetrics',
    '\\metrics',
    '//metrics',
    'http://evil/metrics',
  ])('refuses %s', (target) => {
    expect(namesMetrics(target)).toBe(true);
  });

  it.each([
    '/',
    '/api/v1/reports',
    '/api/v1/count?url=http://x/metrics',
    '/metricsx',
    '/x-metrics',
    '/api/v1/reports/%zz',
  ])('lets %s through', (target) => {
    expect(namesMetrics(target)).toBe(false);
  });
});
