/**
 * Connection URLs (postgres://user:password@host:port/database?options): the one place
 * that takes them apart, so every tool swaps a database name the same way.
 */

// scheme://authority, then the path (the database), then query and fragment. The authority
// may be empty (postgres://u:p@/db?host=/run/postgresql: a Unix socket named in the query).
const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(\/[^?#]*)?([?#].*)?$/i;

/**
 * `url` with `name` as its database; user, password, host, port and query (sslmode, a
 * socket's host=...) are kept as written. `name` is percent-encoded the way pg reads it
 * back (decodeURI), so names with spaces, '%' or non-ASCII letters round-trip; '/', '?'
 * and '#' cannot (decodeURI leaves them encoded), and are refused.
 */
export function withDatabase(url: string, name: string): string {
  const parts = URL_PARTS.exec(url);
  // The URL may hold a password: never repeat it in the message.
  if (parts === null)
    throw new Error('not a connection URL of the form scheme://[user[:password]@][host][:port][/database][?options]');
  if (name === '' || /[/?#]/.test(name))
    throw new Error(`not a database name that a URL can carry: ${JSON.stringify(name)}`);
  return `${parts[1]}/${encodeURI(name)}${parts[3] ?? ''}`;
}

/** The database `url` names, decoded as pg reads it (decodeURI); '' when it names none. */
export function databaseOf(url: string): string {
  const parts = URL_PARTS.exec(url);
  if (parts === null)
    throw new Error('not a connection URL of the form scheme://[user[:password]@][host][:port][/database][?options]');
  return decodeURI((parts[2] ?? '/').slice(1));
}
