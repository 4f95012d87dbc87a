import http2 from 'node:http2';
import type tls from 'node:tls';

export interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  alpn: string | false | null;
  protocol: string | null;
}

/** One GET over HTTP/2, trusting only the test certificate (so nginx must present that one). */
export function h2get(url: string, ca: string, headers: Record<string, string> = {}): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const { origin, pathname, search } = new URL(url);
    const session = http2.connect(origin, { ca });
    session.setTimeout(15_000, () => session.destroy(new Error('timed out')));
    session.on('error', reject);
    const req = session.request({ ':path': `${pathname}${search}`, ...headers });
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const socket = session.socket as tls.TLSSocket;
        const answer = {
          status: Number(h[':status']),
          headers: h,
          body: Buffer.concat(chunks),
          alpn: socket.alpnProtocol,
          protocol: socket.getProtocol(),
        };
        session.close(() => resolve(answer));
      });
    });
    req.on('error', reject);
    req.end();
  });
}
