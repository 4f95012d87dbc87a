/**
 * k6 storefront load test: `k6 run -e SCENARIO=load -e BASE_URL=http://fleet:8080 loadtest/k6/storefront.ts`
 * SCENARIO: smoke | load | stress | spike | soak (loadtest/scenarios.json).
 * RATE_SCALE multiplies every arrival rate (e.g. 0.1 against a laptop). CATALOG_SIZE is the
 * number of products (ids 1…CATALOG_SIZE, as in the Atelier export). PAGE_VIEW_MODEL names
 * one of scenarios.json's page-view models (default: its `pageViews.default`, the storefront
 * fan-out: the related ids are read from each page's related answer, as the page reads them).
 * `k6 run --out json=k6.json ...` writes what `npm run bench:report -- k6.json` renders.
 */
import { check } from 'k6';
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import type { Options, Scenario } from 'k6/options';
import { createRandom } from '../../db/generate/prng.ts';
import { fansOut, firstRequests, pageViewModel, relatedRequests, type PageViewModels } from '../lib/page-views.ts';
import type { PlannedRequest } from '../lib/traffic.ts';
import { drawPageViews, type TrafficMix } from '../lib/traffic.ts';

interface ScenarioFile {
  slo: { p95Ms: number; p99Ms: number; maxFailedRate: number };
  traffic: TrafficMix;
  pageViews: PageViewModels;
  /** Sent with every request: Accept-Encoding as storefront clients send it. */
  requestHeaders: Record<string, string>;
  scenarios: Record<string, Record<string, unknown> & { stages?: Array<{ target: number; duration: string }> }>;
}

const config = JSON.parse(open('../scenarios.json')) as ScenarioFile;
const scenarioName = __ENV.SCENARIO ?? 'smoke';
const baseUrl = (__ENV.BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const rateScale = Number(__ENV.RATE_SCALE ?? '1');
const catalogSize = Number(__ENV.CATALOG_SIZE ?? '1000011');

const definition = config.scenarios[scenarioName];
if (definition === undefined) throw new Error(`unknown SCENARIO ${scenarioName}`);

function scaled(def: ScenarioFile['scenarios'][string]): Scenario {
  const out: Record<string, unknown> = { ...def, exec: 'pageView' };
  for (const key of ['rate', 'startRate'] as const) {
    if (typeof def[key] === 'number') out[key] = Math.max(1, Math.round((def[key] as number) * rateScale));
  }
  if (def.stages) out.stages = def.stages.map((s) => ({ ...s, target: Math.round(s.target * rateScale) }));
  return out as unknown as Scenario;
}

export const options: Options = {
  scenarios: { [scenarioName]: scaled(definition) },
  thresholds: {
    http_req_failed: [`rate<${config.slo.maxFailedRate}`],
    http_req_duration: [`p(95)<${config.slo.p95Ms}`, `p(99)<${config.slo.p99Ms}`],
    checks: ['rate>0.99'],
  },
  // Unknown ids are part of the mix: their 404 is the correct answer, not a failure.
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
};

const model = pageViewModel(config.pageViews, __ENV.PAGE_VIEW_MODEL);
// One traffic stream per VU, seeded by VU id so runs are reproducible.
const nextPageView = drawPageViews(
  { size: catalogSize, idAt: (position) => position + 1, maxId: catalogSize },
  config.traffic,
  createRandom(1000 + __VU).next,
);
const expected404 = http.expectedStatuses(200, 304, 404);

/** Sends `requests` in parallel (as a browser does), checks each; returns the responses. */
function send(requests: PlannedRequest[]): Array<RefinedResponse<ResponseType | undefined>> {
  const responses = http.batch(
    requests.map((r) => ({
      method: 'GET',
      url: baseUrl + r.path,
      // The clients' Accept-Encoding from scenarios.json (br first), not the gzip k6 offers by default.
      params: { headers: config.requestHeaders, tags: { name: r.name }, responseCallback: r.expect === 404 ? expected404 : undefined },
    })),
  );
  responses.forEach((res, i) => {
    const planned = requests[i];
    if (planned === undefined) return;
    check(res, {
      [`${planned.name}: status ${planned.expect}`]: (r) => r.status === planned.expect,
      [`${planned.name}: JSON`]: (r) => String(r.headers['Content-Type']).startsWith('application/json'),
    });
  });
  return responses as Array<RefinedResponse<ResponseType | undefined>>;
}

export function pageView(): void {
  const view = nextPageView();
  const first = firstRequests(view, model);
  const responses = send(first);
  if (!fansOut(view, model)) return;
  // The page's second step: each related id's documents, ids read from the related answer.
  const related = responses[first.findIndex((r) => r.name === 'related')];
  if (related === undefined || related.status !== 200) return;
  const ids = JSON.parse(String(related.body)) as number[];
  if (ids.length > 0) send(relatedRequests(ids, model));
}
