/**
 * The open-model generator's HTTP/1.1 connection: a raw loopback socket, one request in
 * flight at a time (no pipelining, as browsers and k6 send), requests preformatted as
 * Buffers, responses framed by Content-Length or chunked coding and not parsed any further:
 * the status code is all the generator keeps. Far cheaper per request than node:http's
 * client (no IncomingMessage, header objects or streams), so one process holds a higher rate.
 */
import net from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('\r\n0\r\n\r\n');

/** What a finished exchange reports: the status, or the error that ended it. */
export type Outcome = { status: number } | { error: string };

/** `GET path` as sent: Host, the given headers, keep-alive (HTTP/1.1's default). */
export function formatRequest(path: string, host: string, headers: Readonly<Record<string, string>>): Buffer {
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`, 'latin1');
}

/**
 * Where the response that starts `buf` ends (the index after it), -1 when it has not fully
 * arrived, or an Error when it is not a response this client can frame.
 */
export function responseEnd(buf: Buffer): number | Error {
  const headerEnd = buf.indexOf(HEADER_END);
  if (headerEnd < 0) return -1;
  const head = buf.toString('latin1', 0, headerEnd).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) {
    const end = headerEnd + 4 + Number(length[1]);
    return buf.length >= end ? end : -1;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    // JSON bodies hold no CRLF, so the last chunk's marker cannot occur inside one.
    const last = buf.indexOf(CHUNKED_END, headerEnd);
    return last < 0 ? -1 : last + CHUNKED_END.length;
  }
  // 204 and 304 have no body; anything else without a length is not framed for us.
  const status = statusOf(buf);
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) return headerEnd + 4;
  return new Error(`response without Content-Length or chunked coding (status ${status})`);
}

/** The status code of the response that starts `buf` ("HTTP/1.1 200 ..."). */
export function statusOf(buf: Buffer): number {
  return Number(buf.toString('latin1', 9, 12));
}

/**
 * One keep-alive connection. `send` writes a request; `onDone` is called once per request
 * with its outcome, the connection free again unless it closed (then `closed` is true).
 */
export class Connection {
  busy = false;
  closed = false;
  /** When the request in flight was written (performance.now(), ms). */
  sentAt = 0;
  private readonly socket: net.Socket;
  private pending: Buffer | null = null;

  constructor(
    port: number,
    host: string,
    private readonly onDone: (connection: Connection, outcome: Outcome) => void,
  ) {
    this.socket = net.connect({ port, host, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err.message));
    this.socket.on('close', () => this.fail('connection closed'));
  }

  /** Resolves once connected (rejects on a refused connection). */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.readyState === 'open') return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  send(request: Buffer, now: number): void {
    this.busy = true;
    this.sentAt = now;
    this.pending = null;
    this.socket.write(request);
  }

  /** Ends the request in flight as an error (a timeout) and the connection with it. */
  abort(reason: string): void {
    this.fail(reason);
    this.socket.destroy();
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const end = responseEnd(buf);
    if (end instanceof Error) return this.abort(end.message);
    if (end < 0) {
      this.pending = buf;
      return;
    }
    this.pending = null;
    this.busy = false;
    this.onDone(this, { status: statusOf(buf) });
  }

  private fail(reason: string): void {
    const wasBusy = this.busy;
    this.busy = false;
    this.closed = true;
    if (wasBusy) this.onDone(this, { error: reason });
  }
}
