/**
 * The faults the reliability suites share, whichever database the stack keeps its
 * reports in (reliability.test.ts: SQLite, reliability-postgres.test.ts:
 * PostgreSQL): a rolling restart of the API replicas under steady load,
 * writers posting reports until told to stop, and SIGKILL of every replica in
 * the middle of such writing. Each returns what happened; the
 * suites assert on it, and check the database their own way. Load is bounded in
 * rate, count and time, and goes to the stack's gateway on 127.0.0.1 only.
 */
import { docker, dockerAsync, runAsync } from '@stagecraft/testkit/command';
import { mustCompose, type ComposeProject } from '@stagecraft/testkit/compose';
import type { Outcome } from '@stagecraft/testkit/fixed-rate';
import { percentile } from '@stagecraft/testkit/stats';
import { nodeInContainer, waitHealthy } from './docker.js';
import { poll } from '@stagecraft/testkit/wait';
import { call, steadyLoad } from './load.js';

/** The page every report of these suites counts (e2e/compose.fixtures.yml). */
export const FIXTURE_PAGE = 'http://fixtures:8000/page.html';

export function serviceContainers(stack: ComposeProject, service: string): string[] {
  return mustCompose(stack, 'ps', '-q', service).trim().split('\n').filter(Boolean);
}

/**
 * The sidecar's own counters, read inside its container (port 9464 is never
 * published, and listens on the sidecar's address on the metrics network only:
 * METRICS_HOST=sidecar-metrics).
 */
export function sidecarCounter(stack: ComposeProject, name: string, labels: string): number {
  const [sidecar] = serviceContainers(stack, 'sidecar');
  const text = nodeInContainer(
    sidecar!,
    "fetch('http://sidecar-metrics:9464/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))",
  );
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** Requests the sidecar re-sent to another replica after a refusal or a reset. */
export function sidecarRetries(stack: ComposeProject): number {
  return (
    sidecarCounter(stack, 'stagecraft_proxy_upstream_retries_total', 'kind="refused"') +
    sidecarCounter(stack, 'stagecraft_proxy_upstream_retries_total', 'kind="reset"')
  );
}

/** One line: how many requests, by status (or error), and their latency. */
export function summary(outcomes: Omit<Outcome, 'n'>[]): string {
  const ms = outcomes.filter((o) => o.status !== undefined).map((o) => o.ms);
  const byStatus = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.status === undefined ? `error:${o.error}` : String(o.status);
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }
  return `${outcomes.length} requests, ${JSON.stringify(Object.fromEntries(byStatus))}, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(0)} ms`;
}

export function postReport(gateway: string): Promise<Omit<Outcome, 'n' | 'at'>> {
  return call(`${gateway}/api/v1/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: FIXTURE_PAGE }),
  });
}

export interface RollingRestart {
  outcomes: Outcome[];
  shed: number;
  /** Requests the sidecar re-sent during the restart. */
  retries: number;
  /** Most requests in progress at once (what the gateway's per-client connection limit must stay above). */
  peakInProgress: number;
  /** When each replica got SIGTERM and was healthy again. */
  log: string[];
}

/**
 * Restarts every API replica one by one (SIGTERM: the replica fails readiness,
 * drains, exits 0, comes back) while `ratePerSecond` requests a second read the
 * reports for `seconds`: 3 s of load first, 3 s between replicas.
 */
export async function rollingRestart(
  stack: ComposeProject,
  gateway: string,
  { ratePerSecond, seconds }: { ratePerSecond: number; seconds: number },
): Promise<RollingRestart> {
  const replicas = serviceContainers(stack, 'api');
  const retriesBefore = sidecarRetries(stack);
  const load = steadyLoad({
    url: `${gateway}/api/v1/reports?limit=1`,
    ratePerSecond,
    seconds,
    maxInFlight: 512,
  });
  const log: string[] = [];
  const loadStarted = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  for (const id of replicas) {
    const started = Date.now();
    log.push(`SIGTERM to ${id.slice(0, 12)} at ${((started - loadStarted) / 1000).toFixed(1)} s`);
    await dockerAsync('restart', '--time', '15', id);
    const healthyAfter = await waitHealthy(id, 60_000);
    log.push(
      `${id.slice(0, 12)} back and healthy ${((Date.now() - started) / 1000).toFixed(1)} s after SIGTERM (${healthyAfter} ms from start)`,
    );
    const logs = (await runAsync('docker', ['logs', id])).stdout;
    if (!logs.includes('shutdown complete'))
      throw new Error(`${id.slice(0, 12)} did not log "shutdown complete" on SIGTERM`);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
  const { outcomes, shed } = await load;
  const events = outcomes.flatMap((o) => [
    [o.at, 1],
    [o.at + o.ms, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let inProgress = 0;
  let peakInProgress = 0;
  for (const [, change] of events) peakInProgress = Math.max(peakInProgress, (inProgress += change!));
  const slow = outcomes.filter((o) => o.ms > 500);
  const slowSeconds = [...new Set(slow.map((o) => Math.floor(o.at / 1000)))];
  log.push(`requests over 500 ms: ${slow.length}, started in seconds ${slowSeconds.join(', ')}`);
  return { outcomes, shed, retries: sidecarRetries(stack) - retriesBefore, peakInProgress, log };
}

export interface Writers {
  /** Ends the writers after their current request, and waits for them. */
  stop(): Promise<void>;
  /** Ids of the reports whose 201 reached the client, in order. */
  confirmed: number[];
  /** Every write's outcome, `at` in ms since the writers started. */
  outcomes: (Omit<Outcome, 'n'> & { at: number })[];
}

/**
 * `count` writers posting reports back to back, each at most `perWriter` times
 * and within `seconds`, until stopped. A 429 (over the gateway's rate for requests
 * that fetch a page) makes that writer wait a moment, as a client should.
 */
export function startWriters(
  gateway: string,
  { count, perWriter, seconds }: { count: number; perWriter: number; seconds: number },
): Writers {
  const confirmed: number[] = [];
  const outcomes: Writers['outcomes'] = [];
  let stopped = false;
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const writers = Array.from({ length: count }, async () => {
    for (let i = 0; i < perWriter && !stopped && Date.now() < deadline; i++) {
      const at = Date.now() - started;
      const o = await postReport(gateway);
      outcomes.push({ ...o, at });
      if (o.status === 201) confirmed.push((JSON.parse(o.body!) as { id: number }).id);
      if (o.status === 429) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  return {
    confirmed,
    outcomes,
    stop: async () => {
      stopped = true;
      await Promise.all(writers);
    },
  };
}

export interface KilledMidBurst {
  /** Ids of the reports whose 201 reached a client before the kill: each must be stored. */
  confirmed: number[];
  /** The API replicas, started again and healthy. */
  replicas: string[];
}

/**
 * Six writers post reports; once 40 are confirmed, every API replica gets
 * SIGKILL at once. The writers stop 1.5 s later, and the replicas are started
 * again (an operator's `docker kill` is a manual stop: no restart policy
 * applies) and waited for. `label` starts the one line this prints.
 */
export async function killReplicasMidBurst(
  stack: ComposeProject,
  gateway: string,
  label: string,
): Promise<KilledMidBurst> {
  const writers = startWriters(gateway, { count: 6, perWriter: 400, seconds: 20 });
  await poll(
    '40 reports written',
    async () => (writers.confirmed.length >= 40 ? true : undefined),
    30_000,
    50,
  );
  const replicas = serviceContainers(stack, 'api');
  await Promise.all(replicas.map((id) => dockerAsync('kill', '--signal', 'KILL', id)));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await writers.stop();
  const { confirmed, outcomes } = writers;
  const statuses = [...new Set(outcomes.map((o) => o.status ?? 0))];
  console.log(
    `${label}: ${outcomes.length} writes, ${confirmed.length} confirmed, statuses ${statuses.join(', ')}`,
  );
  for (const id of replicas) docker('start', id);
  for (const id of replicas) await waitHealthy(id, 60_000);
  return { confirmed, replicas };
}
