/**
 * The CountRecorder the API runs with: each count's end as samples of its
 * Prometheus metrics (metrics.ts). Kept apart from the use case so counting
 * knows nothing of prom-client, and its tests can record into an array.
 */
import type { ApiMetrics } from '../metrics.js';
import type { LinkCounts } from './count-links.js';
import type { CountEvent, CountRecorder } from './count-page.js';

export function metricsRecorder(metrics: ApiMetrics): CountRecorder {
  const links = ({ internal, external }: LinkCounts) => {
    metrics.links.inc({ kind: 'internal' }, internal);
    metrics.links.inc({ kind: 'external' }, external);
  };
  return (event: CountEvent) => {
    metrics.counts.inc({ source: event.source, outcome: event.outcome });
    if (event.source === 'fetch') {
      metrics.fetchDuration.observe({ outcome: event.outcome }, event.seconds);
      if (event.outcome === 'ok') {
        links(event.page);
        metrics.fetchedBytes.inc(event.page.fetch.bytes);
      }
    } else if (event.outcome === 'ok') {
      links(event.counts);
    }
  };
}
