import { expect } from 'chai';
import { createLogger } from '../src/logger';

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
});
