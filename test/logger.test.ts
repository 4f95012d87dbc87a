import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createLogger, requestLineWriter } from '../src/logger';

describe('logger (unit)', () => {
  it('when a line is logged, then it is one JSON object with the level label, an ISO time, pid, base fields and msg', () => {
    const written: string[] = [];
    const log = createLogger({ level: 'info', base: { worker: 3 }, destination: { write: (line: string) => void written.push(line) } });
    const before = Date.now();
    log.info({ reqId: 'r1', status: 200 }, 'served');
    log.debug('below the level: not written');
    log.error({ reqId: 'r2' }, 'failed');
    expect(written).to.have.length(2);
    const [first, second] = written.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).to.deep.include({ level: 'info', pid: process.pid, worker: 3, reqId: 'r1', status: 200, msg: 'served' });
    expect(second).to.deep.include({ level: 'error', reqId: 'r2', msg: 'failed' });
    const time = first!.time as string;
    expect(time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(time)).to.be.within(before, Date.now());
    expect(written.every((l) => l.endsWith('}\n') && !l.slice(0, -1).includes('\n'))).to.equal(true);
  });

  describe('request line writer', () => {
    const capture = (): { written: string[]; destination: { write: (line: string) => void } } => {
      const written: string[] = [];
      return { written, destination: { write: (line: string) => void written.push(line) } };
    };
    // The two lines may straddle a millisecond: the time field is compared apart.
    const withoutTime = (line: string): string => line.replace(/,"time":"[^"]*"/, ',"time":T');

    it('when the logger is the service\'s own, then every line is byte for byte what child.info writes', () => {
      const { written, destination } = capture();
      const child = createLogger({ level: 'info', base: { worker: 2 }, destination }).child({ method: 'HEAD', route: '/products/:product_id/styles' });
      const write = requestLineWriter(child);
      expect(write, 'a writer for the service logger').to.be.a('function');
      const ids = [randomUUID(), 'client-id_1.2:3@host', 'x'];
      const statuses = [200, 304, 404, 500, 503];
      const times = [0, 0.001, 1.5, 12.345, 1234.567, 1e21, 5e-7];
      for (const reqId of ids)
        for (const status of statuses)
          for (const ms of times) {
            child.info({ reqId, status, ms });
            write!(reqId, status, ms);
          }
      expect(written).to.have.length(2 * ids.length * statuses.length * times.length);
      for (let i = 0; i < written.length; i += 2) {
        expect(withoutTime(written[i + 1]!)).to.equal(withoutTime(written[i]!));
        expect(written[i + 1]).to.match(/^\{"level":"info","time":"\d{4}-\d\d-\d\dT[\d:.]+Z","pid":\d+,"worker":2,"method":"HEAD"/);
      }
    });

    it('when the logger changes what a line holds (mixin, log formatter, serializer, redaction, line ending), then there is no writer', () => {
      const { destination } = capture();
      const bindings = { method: 'GET', route: '/products' };
      const configured: pino.LoggerOptions[] = [
        { mixin: () => ({ extra: 1 }) },
        { formatters: { log: (o) => ({ ...o, wrapped: true }) } },
        { serializers: { status: (s: number) => s + 1 } },
        { redact: ['reqId'] },
        { crlf: true },
        { nestedKey: 'payload' },
        { hooks: { streamWrite: (s) => s } },
      ];
      for (const options of configured) expect(requestLineWriter(pino(options, destination).child(bindings)), JSON.stringify(Object.keys(options))).to.equal(undefined);
      expect(requestLineWriter(pino({}, destination).child(bindings))).to.be.a('function');
    });
  });
});
