/**
 * Free space on the data volume, from one statfs: what the store's readiness
 * check reads (ReportsStore, MIN_FREE_BYTES) and what the gauges on the metrics
 * port report (http/ops-routes.ts), so the alert that warns of a filling volume
 * (prometheus/rules/alerts.yml) and the check that takes a replica out of service
 * measure the same thing.
 */
import { statfsSync } from 'node:fs';

export interface FreeSpace {
  /** Bytes an unprivileged process can still write (bavail: root's reserve excluded). */
  free: number;
  /** The file system's size in bytes. */
  size: number;
}

/** The fields of statfs(2) used here; tests pass their own. */
export type StatFs = (dir: string) => { bavail: number; blocks: number; bsize: number };

export function freeSpaceOf(dir: string, statfs: StatFs = statfsSync): FreeSpace {
  const stats = statfs(dir);
  return { free: stats.bavail * stats.bsize, size: stats.blocks * stats.bsize };
}
