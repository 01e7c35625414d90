/**
 * Requests and load for the stacks under test, with the stacks' bearer token on
 * every request: public routes ignore it, and tests of the check itself pass
 * their own authorization header. The requests, the schedule and their bounds
 * are @stagecraft/testkit's.
 */
import { fixedRateLoad, type FixedRateOptions, type FixedRateResult } from '@stagecraft/testkit/fixed-rate';
import { timedRequest, type RequestOutcome, type TimedRequestInit } from '@stagecraft/testkit/timed-request';
import { authorization } from './api-token.js';

/** One request with its outcome; never rejects. */
export function call(url: string, init: TimedRequestInit): Promise<RequestOutcome> {
  return timedRequest(url, { ...init, headers: { ...authorization, ...init.headers } });
}

/** Steady, bounded load: requests at a fixed rate for a fixed time. */
export function steadyLoad(options: FixedRateOptions): Promise<FixedRateResult> {
  return fixedRateLoad({ ...options, headers: { ...authorization, ...options.headers } });
}
