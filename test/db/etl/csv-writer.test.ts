import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { csvField, openCsvWriter } from '../../../db/etl/csv-writer';

describe('batched CSV writer (unit, real files)', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-csv-writer-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('when lines are added past several batches, then the file holds the header and every line in order', async () => {
    const file = path.join(tmp, 'nested', 'out.csv');
    const out = await openCsvWriter(file, 'id,text');
    const expected = ['id,text'];
    // ~3 MiB: several batches, with waits on the stream as a producer would.
    for (let i = 1; i <= 30_000; i++) {
      const line = `${i},${'x'.repeat(100)}`;
      out.line(line);
      expected.push(line);
      if (i % 1000 === 0) await out.drained();
    }
    await out.close();
    expect(out.lines).to.equal(30_000);
    expect(fs.readFileSync(file, 'utf8')).to.equal(`${expected.join('\n')}\n`);
  });

  it('when the path cannot be written, then opening fails before any line', async () => {
    const folder = path.join(tmp, 'a-folder');
    fs.mkdirSync(folder);
    let error: unknown;
    await openCsvWriter(folder, 'h').catch((e: unknown) => (error = e));
    expect((error as NodeJS.ErrnoException | undefined)?.code).to.equal('EISDIR');
  });

  it('when a field holds a quote, comma or line break, then it is quoted (RFC 4180); else written as is', () => {
    expect(csvField('plain')).to.equal('plain');
    expect(csvField('a,b')).to.equal('"a,b"');
    expect(csvField('say "hi"')).to.equal('"say ""hi"""');
    expect(csvField('two\nlines')).to.equal('"two\nlines"');
  });
});
