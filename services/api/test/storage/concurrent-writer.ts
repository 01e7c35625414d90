/** Child process for reports-store.test.ts: inserts COUNT reports into the store in DATA_DIR, one transaction each. */
import { ReportsStore } from '../../src/storage/reports-store.js';

const store = new ReportsStore(process.env.DATA_DIR as string);
const count = Number(process.env.COUNT);
const tag = process.env.TAG as string;
for (let i = 0; i < count; i++) {
  store.insert({
    url: `http://${tag}.test/${i}`,
    internal: i,
    external: 0,
    finalUrl: `http://${tag}.test/${i}`,
    status: 200,
    bytes: 1,
    redirects: 0,
    durationMs: 1,
  });
}
store.close();
