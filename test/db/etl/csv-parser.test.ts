import { expect } from 'chai';
import { createCsvParser } from '../../../db/etl/csv-parser';
import { QUOTED_ESCAPED, type CsvRecord } from '../../../db/etl/csv-record';

interface Parsed {
  line: number;
  fields: string[];
  problem?: string;
}

function snapshot(rec: CsvRecord): Parsed {
  const fields: string[] = [];
  for (let i = 0; i < Math.min(rec.fieldCount, rec.starts.length); i++) {
    let text = rec.buf.toString('utf8', rec.starts[i], rec.ends[i]);
    if (rec.kinds[i] === QUOTED_ESCAPED) text = text.replace(/""/g, '"');
    fields.push(text);
  }
  return rec.problem === undefined ? { line: rec.line, fields } : { line: rec.line, fields, problem: rec.problem };
}

/** Parses `input` fed in chunks of `chunkSize` bytes. */
function parse(
  input: string | Buffer,
  chunkSize: number,
  opts: { lineMode?: boolean; maxRecordBytes?: number } = {},
): Parsed[] {
  const out: Parsed[] = [];
  const parser = createCsvParser(
    { quotedFieldsEndAtLineEnd: opts.lineMode ?? false, maxRecordBytes: opts.maxRecordBytes ?? 1 << 20, maxFields: 16 },
    (rec) => out.push(snapshot(rec)),
  );
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input);
  for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize));
  parser.end();
  return out;
}

/** Every chunking from one byte at a time to all at once gives the same records. */
function parseAllWays(input: string | Buffer, opts: { lineMode?: boolean; maxRecordBytes?: number } = {}): Parsed[] {
  const whole = parse(input, 1 << 20, opts);
  for (const size of [1, 2, 3, 5, 7, 16]) expect(parse(input, size, opts), `chunks of ${size}`).to.deep.equal(whole);
  return whole;
}

describe('CSV record parser', () => {
  it('when fields are quoted with commas, newlines and "" escapes, then it returns the text and the starting lines', () => {
    const input = 'id,name\n1,"Camo, Onesie"\n2,"two\nlines"\n3,"say ""hi"""\n4,plain\n';
    expect(parseAllWays(input)).to.deep.equal([
      { line: 1, fields: ['id', 'name'] },
      { line: 2, fields: ['1', 'Camo, Onesie'] },
      { line: 3, fields: ['2', 'two\nlines'] },
      { line: 5, fields: ['3', 'say "hi"'] },
      { line: 6, fields: ['4', 'plain'] },
    ]);
  });

  it('when lines end with CRLF or the file has no final newline, then records are the same', () => {
    expect(parseAllWays('a,b\r\n1,"x"\r\n2,y')).to.deep.equal([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', 'x'] },
      { line: 3, fields: ['2', 'y'] },
    ]);
  });

  it('when a photos line ends inside a quoted URL, then the field ends at the end of its line', () => {
    const input =
      'id,styleId,url,thumbnail_url\n1,1,"https://a/1.jpg","https://a/1t.jpg\n2,1,"https://a/2.jpg\n3,1,"u3","t3"\n';
    expect(parseAllWays(input, { lineMode: true })).to.deep.equal([
      { line: 1, fields: ['id', 'styleId', 'url', 'thumbnail_url'] },
      { line: 2, fields: ['1', '1', 'https://a/1.jpg', 'https://a/1t.jpg'] },
      { line: 3, fields: ['2', '1', 'https://a/2.jpg'] },
      { line: 4, fields: ['3', '1', 'u3', 't3'] },
    ]);
  });

  it('when the last photos line ends inside a quoted URL without a newline, then the field ends at the end of the file', () => {
    expect(parseAllWays('1,1,"u","t', { lineMode: true })).to.deep.equal([{ line: 1, fields: ['1', '1', 'u', 't'] }]);
  });

  it('when text follows a closing quote, then the record is marked malformed and parsing goes on', () => {
    expect(parseAllWays('1,"ab"c,d\n2,e\n')).to.deep.equal([
      { line: 1, fields: ['1', 'ab"c', 'd'], problem: 'malformed quoted field (text after the closing quote)' },
      { line: 2, fields: ['2', 'e'] },
    ]);
  });

  it('when a quoted field is still open at the end of the file, then the record is marked unterminated', () => {
    const [rec] = parseAllWays('1,"never closed\nmore');
    expect(rec).to.deep.include({ line: 1, problem: 'unterminated quoted field' });
  });

  it('when a record grows past the size limit, then it is rejected and parsing resumes on its next line', () => {
    const input = `1,"open ${'x'.repeat(50)}\n2,ok\n3,fine\n`;
    const records = parseAllWays(input, { maxRecordBytes: 30 });
    expect(records[0]).to.deep.include({
      line: 1,
      fields: [],
      problem: 'record longer than 30 bytes (unterminated quoted field?)',
    });
    expect(records.slice(1)).to.deep.equal([
      { line: 2, fields: ['2', 'ok'] },
      { line: 3, fields: ['3', 'fine'] },
    ]);
  });

  it('when a record holds invalid UTF-8 or a NUL byte, then only that record is marked', () => {
    const input = Buffer.concat([
      Buffer.from('1,ok\n2,'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\n3,a\u0000b\n4,caf\u00e9\n'),
    ]);
    const records = parseAllWays(input);
    expect(records.map((r) => r.problem)).to.deep.equal([undefined, 'invalid UTF-8', 'contains a NUL byte', undefined]);
    expect(records[3]!.fields).to.deep.equal(['4', 'caf\u00e9']);
  });

  it('when a line is empty, then it is a record of one empty field', () => {
    expect(parseAllWays('1,a\n\n2,b\n')).to.deep.equal([
      { line: 1, fields: ['1', 'a'] },
      { line: 2, fields: [''] },
      { line: 3, fields: ['2', 'b'] },
    ]);
  });
});
