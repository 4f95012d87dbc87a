import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createLineBuffer } from '../src/log-buffer';

describe('log line buffer (unit)', () => {
  let dir: string;
  let file: string;
  let fd: number;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-log-'));
    file = path.join(dir, 'out.log');
    fd = fs.openSync(file, 'w');
  });
  afterEach(() => {
    try {
      fs.closeSync(fd);
    } catch {
      // closed by the test
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when lines stay under minBytes, then nothing is written until flush, then all of them in order', () => {
    const buffer = createLineBuffer(fd, 1024);
    for (let i = 0; i < 10; i++) buffer.write(`line ${i}\n`);
    expect(fs.readFileSync(file, 'utf8')).to.equal('');
    buffer.flush();
    expect(fs.readFileSync(file, 'utf8')).to.equal(Array.from({ length: 10 }, (_, i) => `line ${i}\n`).join(''));
  });

  it('when minBytes is reached, then everything gathered is written at once', () => {
    const buffer = createLineBuffer(fd, 100);
    const line = `${'x'.repeat(39)}\n`;
    buffer.write(line);
    buffer.write(line);
    expect(fs.statSync(file).size).to.equal(0);
    buffer.write(line);
    expect(fs.readFileSync(file, 'utf8')).to.equal(line.repeat(3));
  });

  it('when a line holds non-ASCII text, then its UTF-8 bytes are written intact', () => {
    const buffer = createLineBuffer(fd, 4096);
    buffer.write('{"msg":"café – ☕ 𝄞"}\n');
    buffer.flush();
    expect(fs.readFileSync(file, 'utf8')).to.equal('{"msg":"café – ☕ 𝄞"}\n');
  });

  it('when a line is longer than the buffer holds, then what is gathered goes first and the line whole after it', () => {
    const buffer = createLineBuffer(fd, 100);
    const long = `${'y'.repeat(20_000)}\n`;
    buffer.write('short\n');
    buffer.write(long);
    buffer.write('after\n');
    expect(fs.readFileSync(file, 'utf8')).to.equal(`short\n${long}`);
    buffer.flush();
    expect(fs.readFileSync(file, 'utf8')).to.equal(`short\n${long}after\n`);
  });

  it('when many lines pass through, then each write is one whole batch of at least minBytes, in order', () => {
    const buffer = createLineBuffer(fd, 1000);
    const lines = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"é":"${'z'.repeat(i % 300)}"}\n`);
    const sizes: number[] = [];
    let last = 0;
    for (const line of lines) {
      buffer.write(line);
      const size = fs.statSync(file).size;
      if (size !== last) sizes.push(size - last);
      last = size;
    }
    buffer.flush();
    expect(fs.readFileSync(file, 'utf8')).to.equal(lines.join(''));
    expect(sizes.length).to.be.greaterThan(100);
    expect(Math.min(...sizes)).to.be.at.least(1000);
  });

  it('when the descriptor is gone, then writing never throws and flush reports the error', () => {
    const buffer = createLineBuffer(fd, 10);
    fs.closeSync(fd);
    expect(() => buffer.write('a line longer than ten bytes\n')).to.not.throw();
    buffer.write('another\n');
    let reported: Error | undefined;
    buffer.flush((err) => (reported = err));
    expect(reported).to.have.property('code', 'EBADF');
  });

  it('when pino writes through it, then each line is one JSON object and flush(cb) empties it', async () => {
    const buffer = createLineBuffer(fd, 4096);
    const log = pino({ base: null }, buffer);
    log.info({ n: 1 }, 'first');
    log.warn({ n: 2 }, 'second');
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { n: number; msg: string });
    expect(lines.map((l) => [l.n, l.msg])).to.deep.equal([
      [1, 'first'],
      [2, 'second'],
    ]);
  });

  it('when the reader of a non-blocking pipe stalls, then the writer waits for it and no line is lost', async () => {
    // The reader starts reading only after 300 ms; a pipe holds 64 KiB, far less than written.
    const reader = spawn('sh', ['-c', `sleep 0.3; cat > '${file}'`], { stdio: ['pipe', 'ignore', 'inherit'] });
    const pipeFd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
    // libuv opened it O_NONBLOCK (04000 in /proc's octal flags): a full pipe answers EAGAIN.
    const flags = parseInt(/flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${pipeFd}`, 'utf8'))![1]!, 8);
    expect(flags & 0o4000, 'non-blocking pipe').to.not.equal(0);
    const buffer = createLineBuffer(pipeFd, 4096);
    const lines = Array.from({ length: 10_000 }, (_, i) => `{"line":${i},"pad":"${'p'.repeat(20)}"}\n`);
    for (const line of lines) buffer.write(line);
    buffer.flush();
    const exited = new Promise((resolve) => reader.once('exit', resolve));
    reader.stdin!.end();
    await exited;
    expect(fs.readFileSync(file, 'utf8')).to.equal(lines.join(''));
  });
});
