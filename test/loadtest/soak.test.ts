import { expect } from 'chai';
import { formatReport, type Row } from '../../loadtest/bench/report';
import type { EventRecord, RestartWindow } from '../../loadtest/bench/soak-events';
import { parsePacedOutput, type SecondCount, type TimedPacedRun } from '../../loadtest/bench/soak-generator';
import { classifyStatuses, longestGapMs, minuteRows, servicePercentileMs, type MinuteRow } from '../../loadtest/bench/soak-minutes';
import { readExposition, type SoakSample } from '../../loadtest/bench/soak-sampler';
import type { SoakReport } from '../../loadtest/bench/soak-report';
import { describeSchedule, soakSchedule } from '../../loadtest/bench/soak-schedule';
import { evaluateSoak, flatTarget, p99Target } from '../../loadtest/bench/soak-targets';

const SETTINGS = { reloadEveryMinutes: 5, killEveryMinutes: 7, restartAtShare: 0.6 };
const MIN = 60_000;
const T0 = 1_800_000_000_000; // epoch ms of minute 1's start, a whole second

/** A minute's run: `rps` 2xx a second for 60 s, plus any other counts given. */
function run(minute: number, over: Partial<TimedPacedRun> = {}, extra: SecondCount[] = []): TimedPacedRun {
  const startedAt = T0 + (minute - 1) * MIN;
  const perSecond: SecondCount[] = [[startedAt / 1000, 200, 1000], ...extra];
  return { requests: 1000, rps: 1000, p50Ms: 1, p95Ms: 2, p99Ms: 4, maxMs: 9, socketErrors: 0, non2xx: 0, perSecond, startedAt, endedAt: startedAt + MIN - 20, ...over };
}

/** Per-minute rows with the given per-minute values (arrays indexed by minute - 1). */
function rows(n: number, f: { rss?: (m: number) => number; pg?: (m: number) => number; p99?: (m: number) => number; events?: Record<number, string[]> } = {}): MinuteRow[] {
  return Array.from({ length: n }, (_, i): MinuteRow => {
    const m = i + 1;
    return {
      minute: m, startedAt: T0 + i * MIN, endedAt: T0 + m * MIN, requests: 60_000, rps: 1000, p50Ms: 1, p95Ms: 2, p99Ms: f.p99?.(m) ?? 4, maxMs: 9, serviceP99Ms: m === 2 ? NaN : 25,
      socketErrors: 0, wrkNon2xx: 0, ok: 60_000, unavailableInWindow: 0, unavailableOutside: 0, otherNon2xx: 0, statuses: { 200: 60_000 },
      non2xxPerSecond: [], workerRssMb: [f.rss?.(m) ?? 300, 250], maxWorkerRssMb: f.rss?.(m) ?? 300, heapUsedMb: 400, fds: 80, pgService: f.pg?.(m) ?? 18, pgAll: 18,
      events: f.events?.[m] ?? [],
      eventKinds: (f.events?.[m] ?? []).map((text) => (text.startsWith('SIGKILL') ? 'kill' : 'reload')),
    };
  });
}

describe('soak scenario (unit: schedule, wrk output, per-minute rows, targets)', () => {
  describe('schedule', () => {
    it('when the run is 30 min, then reloads every 5, kills every 7, one restart at 18 min', () => {
      const s = soakSchedule(30, SETTINGS);
      expect(s.scale).to.equal(1);
      expect(s.events.map((e) => `${e.kind}@${e.atMs / MIN}`)).to.deep.equal([
        'reload@5', 'kill@7', 'reload@10', 'kill@14', 'reload@15', 'restart@18', 'reload@20', 'kill@21', 'reload@25', 'kill@28',
      ]);
    });

    it('when the run is shorter than the longest period + 1 min, then the periods are compressed and one of each still happens', () => {
      for (const minutes of [1, 2, 3, 5, 7]) {
        const s = soakSchedule(minutes, SETTINGS);
        expect(s.scale, String(minutes)).to.be.closeTo(minutes / 8, 1e-9);
        expect(s.events.map((e) => e.kind).sort(), String(minutes)).to.deep.equal(['kill', 'reload', 'restart']);
        for (const e of s.events) expect(e.atMs, String(minutes)).to.be.within(1, minutes * MIN - 1);
      }
      const three = soakSchedule(3, SETTINGS);
      expect(three.events.map((e) => [e.kind, e.atMs])).to.deep.equal([['restart', 108_000], ['reload', 112_500], ['kill', 157_500]]);
      expect(describeSchedule(three)).to.equal(
        'reload every 1:53, kill every 2:38 (periods compressed ×0.375 for a 3-minute run): reloads at 1:53; worker kills at 2:38; PostgreSQL restart at 1:48',
      );
    });

    it('when only some kinds are asked for, then only those are planned, at the times of the full schedule', () => {
      const reloads = soakSchedule(30, SETTINGS, ['reload']);
      expect(reloads.events.map((e) => `${e.kind}@${e.atMs / MIN}`)).to.deep.equal(['reload@5', 'reload@10', 'reload@15', 'reload@20', 'reload@25']);
      expect(describeSchedule(soakSchedule(3, SETTINGS, ['kill', 'restart']))).to.equal(
        'reload every 1:53, kill every 2:38 (periods compressed ×0.375 for a 3-minute run): no reloads (--soak-events); worker kills at 2:38; PostgreSQL restart at 1:48',
      );
      const none = soakSchedule(30, SETTINGS, []);
      expect(none.events).to.deep.equal([]);
      expect(describeSchedule(none)).to.equal('no events (--soak-events none): traffic alone');
    });

    it('when events fall at the same time, then the kill comes first, then the restart, then a reload', () => {
      // 35 min: the restart at 21 min meets the third kill.
      const at21 = soakSchedule(35, SETTINGS).events.filter((e) => e.atMs === 21 * MIN);
      expect(at21.map((e) => e.kind)).to.deep.equal(['kill', 'restart']);
      const at35 = soakSchedule(70, { ...SETTINGS, restartAtShare: 0.5 }).events.filter((e) => e.atMs === 35 * MIN);
      expect(at35.map((e) => e.kind)).to.deep.equal(['kill', 'restart', 'reload']);
    });
  });

  describe("wrk's output", () => {
    it('when the paced script printed its lines, then the figures and the per-second statuses, sorted', () => {
      const out = [
        'Running 1m test @ http://127.0.0.1:1',
        'WRK_JSON {"requests":3000,"bytes":1,"durationUs":60000000,"connect":1,"read":2,"write":3,"status":7,"timeout":4,"p50":800,"p95":1500,"p99":2500,"max":9000}',
        'WRK_PER_SECOND {"1800000001:503":7,"1800000000:200":1500,"1800000001:200":1493}',
        'WRK_SPAN {"first":1800000000123,"last":1800000001999}',
      ].join('\n');
      expect(parsePacedOutput(out)).to.deep.equal({
        requests: 3000, rps: 50, p50Ms: 0.8, p95Ms: 1.5, p99Ms: 2.5, maxMs: 9, socketErrors: 10, non2xx: 7,
        perSecond: [[1_800_000_000, 200, 1500], [1_800_000_001, 200, 1493], [1_800_000_001, 503, 7]],
        firstResponseAt: 1_800_000_000_123, lastResponseAt: 1_800_000_001_999,
      });
      const silent = parsePacedOutput('WRK_JSON {"requests":0,"durationUs":1}\nWRK_PER_SECOND {}\nWRK_SPAN {"first":0,"last":0}\n');
      expect(silent).to.deep.include({ requests: 0, perSecond: [] });
      expect(silent).to.not.have.property('firstResponseAt');
    });

    it('when a summary line is missing, then nothing', () => {
      expect(parsePacedOutput('WRK_JSON {"requests":1}\nWRK_PER_SECOND {}\n')).to.equal(undefined);
      expect(parsePacedOutput('unable to connect\n')).to.equal(undefined);
    });
  });

  describe('per-minute rows', () => {
    const window: RestartWindow = { from: T0 + 90_500, to: T0 + 95_200 };

    it('when 503s arrive in a second that touches the restart window, then they are inside; 503s elsewhere and other statuses are not', () => {
      const s = T0 / 1000;
      const perSecond: SecondCount[] = [[s + 89, 503, 1], [s + 90, 503, 2], [s + 95, 503, 3], [s + 96, 503, 4], [s + 91, 500, 5], [s + 91, 200, 6], [s + 92, 404, 7]];
      expect(classifyStatuses(perSecond, [window])).to.deep.equal({ ok: 6, unavailableInWindow: 5, unavailableOutside: 5, otherNon2xx: 12 });
      expect(classifyStatuses(perSecond, [])).to.deep.equal({ ok: 6, unavailableInWindow: 0, unavailableOutside: 10, otherNon2xx: 12 });
    });

    it('when runs, samples and events are given, then each minute gets its figures, its sample and the events that happened in it', () => {
      const events: EventRecord[] = [
        { kind: 'kill', at: T0 + 70_000, text: 'SIGKILL worker 12' },
        { kind: 'restart', at: T0 + 90_500, text: 'PostgreSQL restart' },
        { kind: 'reload', at: T0 + 10_000, text: 'reload 1 started' },
        { kind: 'reload-end', at: T0 + 3 * MIN + 5_000, text: 'reload 1 stopped at the end of the run' },
      ];
      const sample = { at: T0 + 115_000, workers: [{ pid: 12, rssMb: 310 }, { pid: 13, rssMb: 120 }], heapUsedMb: 420, requestBuckets: [], fds: 77, pgService: 18, pgAll: 20 };
      const out = minuteRows([{ run: run(1) }, { run: run(2, { socketErrors: 3 }, [[(T0 + 91_000) / 1000, 503, 40]]), sample }, { run: run(3) }], events, [window]);
      expect(out.map((r) => r.events)).to.deep.equal([['reload 1 started'], ['SIGKILL worker 12', 'PostgreSQL restart'], ['reload 1 stopped at the end of the run']]);
      expect(out.map((r) => r.eventKinds)).to.deep.equal([['reload'], ['kill', 'restart'], ['reload-end']]);
      expect(out[1]).to.include({ minute: 2, ok: 1000, unavailableInWindow: 40, unavailableOutside: 0, socketErrors: 3, maxWorkerRssMb: 310, heapUsedMb: 420, fds: 77, pgService: 18, pgAll: 20 });
      expect(out[1]!.statuses).to.deep.equal({ 200: 1000, 503: 40 });
      expect(out[1]!.non2xxPerSecond).to.deep.equal([[(T0 + 91_000) / 1000, 503, 40]]);
      expect(out[1]!.workerRssMb).to.deep.equal([310, 120]);
      expect(Number.isNaN(out[0]!.maxWorkerRssMb), 'no sample: no RSS').to.equal(true);
      expect(Number.isNaN(out[0]!.pgService), 'no sample: no sessions').to.equal(true);
      expect(longestGapMs(out)).to.equal(20);
      // With response times, the pause is from one run's last response to the next one's first.
      const timed = minuteRows([{ run: run(1, { lastResponseAt: T0 + MIN - 100 }) }, { run: run(2, { firstResponseAt: T0 + MIN + 35 }) }], [], []);
      expect(longestGapMs(timed)).to.equal(135);
    });

    describe("the service's own p99", () => {
      // Two routes' buckets, summed by bound; the heap beside them.
      const exposition = (counts: [number, number, number, number]): string =>
        [
          '# TYPE atelier_http_request_duration_seconds histogram',
          ...(['0.01', '0.025', '0.1', '+Inf'] as const).flatMap((le, i) => [
            `atelier_http_request_duration_seconds_bucket{route="/products/:product_id",method="GET",status_class="2xx",le="${le}"} ${counts[i]! - 1}`,
            `atelier_http_request_duration_seconds_bucket{route="/products/:product_id/styles",method="GET",status_class="2xx",le="${le}"} 1`,
          ]),
          'nodejs_heap_size_used_bytes 104857600',
        ].join('\n');
      const sampleOf = (counts: [number, number, number, number], pids = [12, 13]): SoakSample => ({
        at: T0,
        workers: pids.map((pid) => ({ pid, rssMb: 300 })),
        ...readExposition(exposition(counts)),
        fds: 80,
        pgService: 18,
        pgAll: 18,
      });

      it('when the exposition has the histogram, then its buckets are summed over routes by bound, and the heap read', () => {
        expect(readExposition(exposition([900, 990, 999, 1000]))).to.deep.equal({
          heapUsedMb: 100,
          requestBuckets: [[0.01, 900], [0.025, 990], [0.1, 999], [Infinity, 1000]],
        });
        expect(readExposition('')).to.deep.equal({ heapUsedMb: NaN, requestBuckets: [] });
      });

      it('when two samples hold the same workers, then the p99 of the requests between them is the bound of its bucket', () => {
        const before = sampleOf([900, 990, 999, 1000]);
        // 10,000 requests between: 9,800 within 10 ms, 150 more within 25, 49 within 100, 1 beyond.
        expect(servicePercentileMs(before, sampleOf([10_700, 10_940, 10_989, 11_000]), 0.99)).to.equal(25);
        expect(servicePercentileMs(before, sampleOf([10_700, 10_940, 10_989, 11_000]), 0.5)).to.equal(10);
        expect(servicePercentileMs(before, sampleOf([10_700, 10_940, 10_989, 11_000]), 0.9999)).to.equal(Infinity);
      });

      it('when a worker was replaced, a sample lacks the histogram or none was counted, then it cannot be told (NaN)', () => {
        const before = sampleOf([900, 990, 999, 1000]);
        expect(servicePercentileMs(before, sampleOf([10_700, 10_940, 10_989, 11_000], [12, 14]), 0.99)).to.satisfy(Number.isNaN);
        expect(servicePercentileMs(undefined, before, 0.99)).to.satisfy(Number.isNaN);
        expect(servicePercentileMs({ ...before, requestBuckets: [] }, before, 0.99)).to.satisfy(Number.isNaN);
        expect(servicePercentileMs(before, before, 0.99)).to.satisfy(Number.isNaN);
      });

      it('when rows are built, then minute 1 counts from the start sample and each later minute from the one before', () => {
        const samples = [sampleOf([900, 990, 999, 1000]), sampleOf([1880, 1985, 1999, 2000]), sampleOf([1900, 2500, 2990, 3000])];
        const out = minuteRows([{ run: run(1), sample: samples[1]! }, { run: run(2), sample: samples[2]! }, { run: run(3) }], [], [], samples[0]);
        expect(out.map((r) => r.serviceP99Ms)).to.deep.equal([25, 100, NaN]);
      });
    });
  });

  describe('targets', () => {
    it('when the only errors are 503s in the restart window, then the errors target is met; otherwise it says what and where', () => {
      const clean = rows(3);
      clean[1]!.unavailableInWindow = 900;
      const [errors] = evaluateSoak(clean, 1, { flatTolerance: 0.1, p99OverFirstMinutes: 2 });
      expect(errors).to.include({ verdict: 'met', detail: 'none outside it; 900 503s in the window' });

      const dirty = rows(3, { events: { 3: ['SIGKILL worker 12'] } });
      dirty[0]!.unavailableOutside = 2;
      dirty[2]!.socketErrors = 31;
      dirty[2]!.otherNon2xx = 1;
      const [missed] = evaluateSoak(dirty, 1, { flatTolerance: 0.1, p99OverFirstMinutes: 2 });
      expect(missed).to.include({
        verdict: 'MISSED',
        detail: '31 socket errors (minute 3 [worker kill]); 2 503s outside the window (minute 1); 1 other non-2xx (minute 3 [worker kill]); 0 503s in the window',
      });
    });

    it('when the run is shorter than 15 min, then the flat targets are not judged', () => {
      const targets = evaluateSoak(rows(3), 1, { flatTolerance: 0.1, p99OverFirstMinutes: 2 });
      expect(targets.map((t) => [t.short, t.verdict])).to.deep.equal([
        ['errors only 503s in the restart window', 'met'],
        ['RSS flat', 'not judged'],
        ['PG sessions flat', 'not judged'],
        ['p99 ≤ 2× first minutes', 'met'],
      ]);
      expect(targets[1]!.detail).to.equal('run shorter than 15 min');
    });

    it('when the last 10 minutes stay within ±10 % of the mean of minutes 5–15, then flat; one minute beyond, then missed and named', () => {
      // Minutes 5–15 average 300 MiB; the first minutes (warming up) do not count.
      const rss = (m: number): number => (m < 5 ? 100 : m <= 15 ? (m % 2 ? 290 : 310) : 325);
      const flat = flatTarget('rss', 'RSS flat', rows(30, { rss }), (r) => r.maxWorkerRssMb, 0.1, 'MiB');
      expect(flat.verdict).to.equal('met');
      expect(flat.detail).to.match(/^mean of minutes 5–15 299\.1 MiB; minutes 21–30: 325\.0–325\.0 MiB, worst 8\.7 % in minute 21 \(bound ±10 %\)$/);

      const leak = flatTarget('rss', 'RSS flat', rows(30, { rss: (m) => (m <= 25 ? 300 : 300 + 10 * (m - 25)) }), (r) => r.maxWorkerRssMb, 0.1, 'MiB');
      expect(leak.verdict).to.equal('MISSED');
      expect(leak.detail).to.contain('outside in minute 29, 30');
    });

    it('when a sample is missing in the last minutes, then that minute is left out and named', () => {
      const t = flatTarget('pg', 'PG sessions flat', rows(20, { pg: (m) => (m === 18 ? NaN : 18) }), (r) => r.pgService, 0.1, 'sessions');
      expect(t.verdict).to.equal('met');
      expect(t.detail).to.contain('no sample in minute 18');
    });

    it('when minutes exceed twice the baseline p99 of the first quiet minutes, then they are named', () => {
      const p99 = p99Target(rows(8, { p99: (m) => [3, 4, 5, 100, 4, 9, 11, 4][m - 1]!, events: { 2: ['reload 1 started'] } }), 2);
      expect(p99.verdict).to.equal('MISSED');
      expect(p99.detail).to.equal('baseline 4.00 ms (median of minute 1, 3, without events), bound 8.00 ms; worst 100.00 ms in minute 4; over in minute 4, 6, 7');
      const busy = p99Target(rows(2, { events: { 1: ['x'], 2: ['y'] } }), 2);
      expect(busy).to.include({ verdict: 'met', detail: 'baseline 4.00 ms (minute 1, which holds events), bound 8.00 ms; worst 4.00 ms in minute 1' });
    });
  });

  it('when the report has a soak row, then its per-minute table and targets follow the bench table', () => {
    const perMinute = rows(2, { events: { 2: ['SIGKILL worker 12 (replaced after 0.4 s)'] } });
    const soak: SoakReport = {
      minutes: 2, capacityRps: 2000, targetRps: 1000, connections: 64,
      schedule: { text: 'the schedule', events: [] }, startedAt: T0, events: [],
      restartWindows: [{ from: T0 + 72_000, to: T0 + 80_500 }], perMinute, longestGapMs: 12,
      targets: evaluateSoak(perMinute, 1, { flatTolerance: 0.1, p99OverFirstMinutes: 2 }),
    };
    const row: Row = { scenario: 'soak: x', rps: 1000, p50Ms: 1, p95Ms: 2, p99Ms: 4, errors: 0, non2xx: 0, requests: 120_000, serverCores: NaN, generatorCores: NaN, pass: true, statuses: { 200: 120_000 }, soak };
    const text = formatReport([row], { machine: 'test', catalog: 10, workers: 2, cacheMb: 128, rssLimitMb: 228, runs: '1 × 1 s' });
    expect(text).to.contain('restart window: 72.0–80.5 s after the start');
    expect(text).to.contain('| 1 | 1000 | 1.00 | 4.00 | 9 | ≤ 25 | 60000 |');
    // Minute 2's service p99 cannot be told (a worker was replaced).
    expect(text).to.contain('| 2 | 1000 | 1.00 | 4.00 | 9 | - | 60000 | 0 | 0 | 0 | 0 | 300 / 250 | 400 | 80 | 18 / 18 | SIGKILL worker 12 (replaced after 0.4 s) |');
    expect(text).to.not.contain('WARNING');
    perMinute[0]!.wrkNon2xx = 3;
    expect(formatReport([row], { machine: 'test', catalog: 10, workers: 2, cacheMb: 128, rssLimitMb: 228, runs: '1 × 1 s' })).to.contain(
      "WARNING: the per-second tally and wrk's own error count differ in minute 1",
    );
    expect(text).to.contain('- worker RSS flat (largest worker; last 10 min ±10 % of minutes 5–15): not judged (run shorter than 15 min)');
    expect(JSON.parse(JSON.stringify([row]))[0].soak.perMinute).to.have.length(2);
  });
});
