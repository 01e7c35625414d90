/**
 * Traceparent values a second parser could read differently (case, versions,
 * ids, lengths, separators, repeats): the contract's tests and the repository
 * check that nginx's copy of the pattern agrees (test/trace-context-agree.test.ts)
 * read the same list.
 */
export const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
export const SPAN = '00f067aa0ba902b7';
export const GOOD = `00-${TRACE}-${SPAN}-01`;

/** Cases a second parser could read differently: case, versions, ids, lengths, separators, repeats. */
export const USABLE = [
  GOOD,
  `00-${TRACE}-${SPAN}-00`,
  `00-${TRACE}-${SPAN}-ff`,
  `00-${'f'.repeat(32)}-${'1'.repeat(16)}-09`,
];
export const UNUSABLE = [
  '',
  GOOD.toUpperCase(),
  `00-${TRACE.toUpperCase()}-${SPAN}-01`,
  `00-${TRACE}-${SPAN.toUpperCase()}-01`,
  `00-${TRACE}-${SPAN}-0A`,
  `01-${TRACE}-${SPAN}-01`,
  `ff-${TRACE}-${SPAN}-01`,
  `0-${TRACE}-${SPAN}-01`,
  `00-${'0'.repeat(32)}-${SPAN}-01`,
  `00-${TRACE}-${'0'.repeat(16)}-01`,
  `${GOOD}-extra`,
  `${GOOD}x`,
  `${GOOD} `,
  ` ${GOOD}`,
  `${GOOD}\n`,
  `00-${TRACE}-${SPAN}-1`,
  `00-${TRACE.slice(1)}-${SPAN}-01`,
  `00-${TRACE}0-${SPAN}-01`,
  `00_${TRACE}_${SPAN}_01`,
  `00-${TRACE}-${SPAN}-01, ${GOOD}`,
  `00-${TRACE.slice(0, 31)}g-${SPAN}-01`,
  `00-${TRACE}-${SPAN.slice(0, 15)}-01`,
];
