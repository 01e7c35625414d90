/** Child process for reports-store.test.ts: inserts COUNT reports into the store in DATA_DIR, one transaction each. */
import { SqliteReportsStore } from '../../src/storage/reports-store.js';

const store = new SqliteReportsStore(process.env.DATA_DIR as string);
const count = Number(process.env.COUNT);
const tag = process.env.TAG as string;
for (let i = 0; i < count; i++) {
  await store.insert({
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
await store.close();
