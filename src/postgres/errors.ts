/**
 * What a database error means to the service: the database is away or not letting this
 * connection in yet (a 503 to clients, retried by the primary), as opposed to a bug.
 */

// SQLSTATE classes and driver messages that mean "the database is not there right now",
// as opposed to a bug: connection exceptions (08), operator intervention such as a
// shutdown or restart (57P0x), too many connections (53300), and the pool's own timeout.
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', '53300', '57014', '57P01', '57P02', '57P03']);
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|Connection ended/;

/** The database is not there right now (down, restarting, full, or the pool gave up waiting). */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return UNAVAILABLE_MESSAGES.test(err.message);
}

// The server answers but will not let this connection in (yet): bad credentials (class 28)
// or no such database (3D000). Workers hit this while the database is arriving, before the
// primary has created the reader role they log in as: to a client that is a 503, not a
// bug. Kept out of isDatabaseUnavailable so the primary still stops on a wrong DATABASE_URL
// password instead of retrying it forever.
function isConnectionRejected(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && (code.startsWith('28') || code === '3D000');
}

/** The request could not reach the database (away, or not letting it in yet): a 503, never a bug. */
export function isConnectionFailure(err: unknown): boolean {
  return isDatabaseUnavailable(err) || isConnectionRejected(err);
}
