/**
 * A tiny HTTP server for the open-model test, run as a process of its own: answers every
 * request with a small JSON body at once, except that `GET /stall` blocks its event loop for
 * 200 ms (as a long GC pause would), so every request arriving meanwhile waits. Prints its
 * port on stdout.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// How long /stall blocks the event loop, in ms.
const STALL_MS = 200;

const server = http.createServer((req, res) => {
  // Atomics.wait sleeps the thread without spinning: the stall costs no CPU.
  if (req.url === '/stall') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALL_MS);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end('{"id":1}');
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
