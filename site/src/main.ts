/**
 * The page's behaviour: the two counting forms, the recent reports (with the
 * token field when the API wants one), and the deployment's extra links. Every
 * value from the API or the user goes into the page as text (textContent), never
 * as markup.
 */
import {
  ApiError,
  callApi,
  token,
  type BodyCountResult,
  type CountResult,
  type FetchFacts,
  type Report,
  type ReportPage,
  type SiteConfig,
} from './api.js';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  attributes: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** A list of name/value pairs; each value carries data-field, which the end-to-end test reads. */
function facts(rows: [field: string, label: string, value: string | number][]): HTMLDListElement {
  const list = make('dl');
  for (const [field, label, value] of rows) {
    list.append(make('dt', label), make('dd', String(value), { 'data-field': field }));
  }
  return list;
}

function showError(target: HTMLElement, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  target.replaceChildren(make('p', message, { class: 'error', role: 'alert' }));
}

/** Disables a form's button while its request runs, so one click is one request. */
async function busy(form: HTMLFormElement, work: () => Promise<void>): Promise<void> {
  const button = form.querySelector('button');
  if (button) button.disabled = true;
  try {
    await work();
  } finally {
    if (button) button.disabled = false;
  }
}

/** The counts of a fetched page, and what the fetch found (a count's `fetch`, or a report's own fields). */
function fetchedFacts(
  counts: { internal: number; external: number },
  fetched: Omit<FetchFacts, 'contentType'>,
): HTMLDListElement {
  return facts([
    ['internal', 'Internal links', counts.internal],
    ['external', 'External links', counts.external],
    ['finalUrl', 'Address counted (after redirects)', fetched.finalUrl],
    ['status', 'HTTP status', fetched.status],
    ['bytes', 'Bytes read', fetched.bytes],
    ['redirects', 'Redirects followed', fetched.redirects],
    ['durationMs', 'Fetch time (ms)', Math.round(fetched.durationMs)],
  ]);
}

function setUpCountUrl(onReportKept: () => void): void {
  const form = element<HTMLFormElement>('count-url');
  const input = element<HTMLInputElement>('count-url-input');
  const keep = element<HTMLInputElement>('count-url-keep');
  const result = element<HTMLElement>('count-url-result');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(form, async () => {
      result.replaceChildren(make('p', 'Fetching and counting…'));
      try {
        if (keep.checked) {
          const report = await callApi<Report>('/api/v1/reports', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ url: input.value }),
          });
          result.replaceChildren(make('p', `Kept as report ${report.id}.`), fetchedFacts(report, report));
          onReportKept();
        } else {
          const counted = await callApi<CountResult>(`/api/v1/count?url=${encodeURIComponent(input.value)}`);
          result.replaceChildren(fetchedFacts(counted, counted.fetch));
        }
      } catch (error) {
        showError(result, error);
        if (error instanceof ApiError && error.status === 401) {
          result.append(make('p', 'Keeping a report needs the API’s token: see Recent reports below.'));
        }
      }
    });
  });
}

function setUpCountPage(): void {
  const form = element<HTMLFormElement>('count-page');
  const base = element<HTMLInputElement>('count-page-base');
  const html = element<HTMLTextAreaElement>('count-page-html');
  const result = element<HTMLElement>('count-page-result');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(form, async () => {
      try {
        const counted = await callApi<BodyCountResult>(
          `/api/v1/count?base=${encodeURIComponent(base.value)}`,
          { method: 'POST', headers: { 'content-type': 'text/html; charset=utf-8' }, body: html.value },
        );
        result.replaceChildren(
          facts([
            ['internal', 'Internal links', counted.internal],
            ['external', 'External links', counted.external],
            ['bytes', 'Bytes counted', counted.bytes],
          ]),
        );
      } catch (error) {
        showError(result, error);
      }
    });
  });
}

function reportsTable(reports: Report[]): HTMLTableElement {
  const table = make('table');
  const head = make('tr');
  for (const title of ['#', 'Address', 'Internal', 'External', 'Kept at']) head.append(make('th', title));
  table.append(make('thead'), make('tbody'));
  table.tHead!.append(head);
  for (const report of reports) {
    const row = make('tr', undefined, { 'data-report-id': String(report.id) });
    row.append(
      make('td', String(report.id)),
      make('td', report.url, { 'data-field': 'url', class: 'address' }),
      make('td', String(report.internal), { 'data-field': 'internal' }),
      make('td', String(report.external), { 'data-field': 'external' }),
      make('td', new Date(report.createdAt).toLocaleString()),
    );
    table.tBodies[0]!.append(row);
  }
  return table;
}

/** Whether the list is showing (so a report kept with the form appears in it). */
let listing = false;

/**
 * Lists the newest reports. Asked for only with a token in hand, or when the
 * user says the API runs open: a 401 on every page load would be an error in
 * every production page.
 */
async function loadReports(): Promise<void> {
  const target = element<HTMLElement>('reports');
  const tokenForm = element<HTMLFormElement>('token-form');
  const withoutToken = element<HTMLButtonElement>('reports-open');
  const forget = element<HTMLButtonElement>('token-forget');
  const saved = token.get() !== null;
  forget.hidden = !saved;
  try {
    const page = await callApi<ReportPage>('/api/v1/reports?limit=10');
    tokenForm.hidden = true;
    withoutToken.hidden = true;
    listing = true;
    target.replaceChildren(page.items.length === 0 ? make('p', 'No reports yet.') : reportsTable(page.items));
  } catch (error) {
    listing = false;
    if (error instanceof ApiError && error.status === 401) {
      tokenForm.hidden = false;
      withoutToken.hidden = saved;
      target.replaceChildren(
        make(
          'p',
          saved
            ? 'The API refused the token this tab holds: paste the right one above.'
            : 'This API keeps its reports behind its token: paste it above to list them.',
          { class: 'notice' },
        ),
      );
    } else {
      showError(target, error);
    }
  }
}

function setUpReports(): void {
  const form = element<HTMLFormElement>('token-form');
  const input = element<HTMLInputElement>('token-input');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    token.set(input.value);
    input.value = '';
    void loadReports();
  });
  element<HTMLButtonElement>('reports-open').addEventListener('click', () => void loadReports());
  element<HTMLButtonElement>('token-forget').addEventListener('click', () => {
    token.forget();
    listing = false;
    element<HTMLFormElement>('token-form').hidden = false;
    element<HTMLButtonElement>('reports-open').hidden = false;
    element<HTMLButtonElement>('token-forget').hidden = true;
    element<HTMLElement>('reports').replaceChildren();
  });
  // A token from earlier in this tab: list at once.
  if (token.get() !== null) void loadReports();
}

/** Links that exist only in some deployments: Prometheus's targets, in development. */
async function loadSiteLinks(): Promise<void> {
  const response = await fetch('/site.json', { headers: { accept: 'application/json' } });
  if (!response.ok) return;
  const config = (await response.json()) as SiteConfig;
  if (config.prometheusTargets !== '') {
    const item = make('li');
    item.append(
      make('a', 'Prometheus targets', { href: config.prometheusTargets, id: 'prometheus-targets' }),
      document.createTextNode(' (development: what Prometheus scrapes, and whether each is up)'),
    );
    element<HTMLUListElement>('links').append(item);
  }
}

setUpCountUrl(() => {
  if (listing) void loadReports();
});
setUpCountPage();
setUpReports();
void loadSiteLinks();
