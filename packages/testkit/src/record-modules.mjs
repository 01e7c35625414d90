// Preloaded (node --import RECORD_MODULES, module-graph.ts) by a test: appends the URL of every
// module the process resolves to the file MODULE_LOG names, so the test can read
// the API's module graph: which packages a start with or without tracing loads.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const log = process.env.MODULE_LOG;
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    if (log) appendFileSync(log, `${resolved.url}\n`);
    return resolved;
  },
});
