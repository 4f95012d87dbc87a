import http from 'node:http';
import type { Duplex } from 'node:stream';
import { ALLOWED_METHODS } from './cors';

/** Largest header block accepted, in bytes (Node's parser answers 431 above it). */
export const MAX_HEADER_BYTES = 8192;

function endWithJson(socket: Duplex, status: number, extraHeaders = ''): void {
  const reason = http.STATUS_CODES[status];
  const body = JSON.stringify({ error: reason });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\n${extraHeaders}Connection: close\r\n\r\n${body}`,
  );
}

/**
 * Requests the HTTP parser rejects never reach koa; Node's default answer has no body. This
 * sends the contract's JSON error instead, then closes the socket.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  endWithJson(socket, err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400);
}

/** The service's HTTP server for `handler`, with the limits below: what workers and tests serve with. */
export function createHttpServer(handler: http.RequestListener): http.Server {
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler);
  hardenServer(server);
  return server;
}

/**
 * Timeouts that cut slow or idle clients (slowloris) and the JSON answer to malformed requests.
 * Values match nginx/ (client_header_timeout 10 s; upstream keepalive_timeout 60 s).
 */
function hardenServer(server: http.Server): void {
  // 65 s keep-alive: longer than nginx's upstream keepalive_timeout (60 s), so nginx always
  // closes an idle upstream socket first and never reuses one the service is closing.
  server.keepAliveTimeout = 65_000;
  // Headers must arrive within 10 s and a whole request within 30 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('clientError', answerClientError);
  // CONNECT bypasses the request handler: without this listener Node drops the socket with no
  // answer. (No 'upgrade' listener on purpose: without one Node ignores an Upgrade header and
  // serves the request normally, which is right for e.g. `curl --http2` asking for h2c.)
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => endWithJson(socket, 405, `Allow: ${ALLOWED_METHODS}\r\n`));
}
