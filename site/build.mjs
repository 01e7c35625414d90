// Builds the gateway's static site into site/dist (the gateway image's site stage
// runs it; `npm run build -w site` does the same here):
//   dist/index.html, dist/assets/   the page at / (src/main.ts bundled by esbuild)
//   dist/docs/                      the API reference at /docs: Swagger UI's own
//                                   bundle and styles, the start-up script, and the
//                                   OpenAPI document copied from packages/contract
//                                   (one source: the document the API serves).
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const out = join(here, 'dist');
const swaggerUi = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const openApi = join(here, '../packages/contract/src/openapi.json');

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
mkdirSync(join(out, 'docs/licenses'), { recursive: true });

await build({
  entryPoints: { 'assets/app': join(src, 'main.ts'), 'docs/init': join(src, 'docs/init.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const copies = [
  [join(src, 'index.html'), 'index.html'],
  [join(src, 'site.css'), 'assets/site.css'],
  [join(src, 'assets/favicon.svg'), 'assets/favicon.svg'],
  [join(src, 'docs/index.html'), 'docs/index.html'],
  [join(src, 'docs/docs.css'), 'docs/docs.css'],
  [openApi, 'docs/openapi.json'],
  [join(swaggerUi, 'swagger-ui-bundle.js'), 'docs/swagger-ui-bundle.js'],
  [join(swaggerUi, 'swagger-ui.css'), 'docs/swagger-ui.css'],
  // Apache-2.0: Swagger UI's licence and notices travel with its bundle.
  [join(swaggerUi, 'LICENSE'), 'docs/licenses/swagger-ui-LICENSE'],
  [join(swaggerUi, 'NOTICE'), 'docs/licenses/swagger-ui-NOTICE'],
  [join(swaggerUi, 'swagger-ui-bundle.js.LICENSE.txt'), 'docs/licenses/swagger-ui-bundle.js.LICENSE.txt'],
];
for (const [from, to] of copies) copyFileSync(from, join(out, to));
console.log(`site: built ${out}`);
