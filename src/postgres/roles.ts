import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { CATALOG_SCHEMA } from './migrate';
import { ADVISORY_LOCKS } from './locks';

/** The role HTTP workers connect as: it can read the catalog and nothing else. */
export const READER_ROLE = 'atelier_reader';

/**
 * The reader's password, derived from the owner's connection string: every instance given the
 * same DATABASE_URL derives the same password, so instances never lock each other out, and
 * nothing has to be stored.
 */
export function readerPassword(ownerUrl: string): string {
  return createHmac('sha256', ownerUrl).update(READER_ROLE).digest('base64url');
}

/**
 * The owner's connection string with the reader's credentials. Edited as text: WHATWG URL
 * rejects forms pg accepts, such as a socket directory and no host
 * (`postgres://owner:secret@/atelier?host=/run/postgresql`).
 */
export function readerUrl(ownerUrl: string): string {
  // The password is base64url: nothing in it needs escaping in a URL.
  return ownerUrl.replace(/^(postgres(?:ql)?:\/\/)(?:[^@/?#]*@)?/, `$1${READER_ROLE}:${readerPassword(ownerUrl)}@`);
}

/**
 * Creates (or updates) the read-only role and grants it SELECT on the live catalog and, through
 * default privileges, on every catalog schema the owner builds later (reloads). Needs an owner
 * with CREATEROLE; returns the reader's connection string.
 */
export async function provisionReader(owner: pg.ClientBase, ownerUrl: string): Promise<string> {
  const password = readerPassword(ownerUrl);
  // One transaction: the role never exists without its grants (a worker logging in between
  // would get "permission denied"), and the lock serialises instances starting together,
  // which would otherwise race to CREATE the same role.
  await owner.query('BEGIN');
  try {
    await owner.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.reader]);
    await grantReader(owner, password);
    await owner.query('COMMIT');
  } catch (err) {
    await owner.query('ROLLBACK');
    throw err;
  }
  return readerUrl(ownerUrl);
}


async function grantReader(owner: pg.ClientBase, password: string): Promise<void> {
  // Identifiers and a password literal cannot be bound parameters in DDL; the role name is a
  // constant and the password is base64url (no quotes), and format() quotes it regardless.
  const { rows } = await owner.query<{ exists: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists', [READER_ROLE]);
  const verb = rows[0]?.exists ? 'ALTER' : 'CREATE';
  const { rows: ddl } = await owner.query<{ sql: string }>(
    `SELECT format('${verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD %L', $1::text, $2::text) AS sql`,
    [READER_ROLE, password],
  );
  await owner.query(ddl[0]!.sql);
  // Belt and braces: even a privilege granted by mistake cannot write.
  await owner.query(`ALTER ROLE ${READER_ROLE} SET default_transaction_read_only = on`);
  await owner.query(`GRANT USAGE ON SCHEMA ${CATALOG_SCHEMA} TO ${READER_ROLE}`);
  await owner.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${CATALOG_SCHEMA} TO ${READER_ROLE}`);
  await owner.query(`ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO ${READER_ROLE}`);
  await owner.query(`ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO ${READER_ROLE}`);
}
