import { createHmac } from 'node:crypto';
import pg from 'pg';
import { CATALOG_SCHEMA } from './migrate';
import { ADVISORY_LOCKS } from './locks';

/** The role HTTP workers connect as: it can read the catalog and nothing else. */
export const READER_ROLE = 'atelier_reader';

/** The owner role as PostgreSQL knows it: the reader's password follows from these two alone. */
export interface OwnerIdentity {
  user: string;
  /** The owner's password; empty when it logs in without one (trust, peer, certificate). */
  password: string;
}

/**
 * The owner's identity as pg resolves `ownerUrl` (the URL, then PGUSER/PGPASSWORD, then the
 * defaults), without connecting: for workers forked before the database answers. A password
 * only in ~/.pgpass is missed here; the primary replaces those workers once it has connected.
 */
export function ownerIdentity(ownerUrl: string): OwnerIdentity {
  const client = new pg.Client({ connectionString: ownerUrl });
  return { user: client.user ?? '', password: client.password ?? '' };
}

/**
 * The reader's password: an HMAC keyed by the owner's password over the owner's name. Every
 * deployment of one owner role on one cluster derives the same password however it spells
 * its URL (host alias, database, parameters), so none rotates another's, and nothing has to
 * be stored. It changes when the owner's password does.
 */
export function readerPassword(owner: OwnerIdentity): string {
  return createHmac('sha256', owner.password).update(`${owner.user}\n${READER_ROLE}`).digest('base64url');
}

/**
 * The owner's connection string with the reader's credentials. Edited as text: WHATWG URL
 * rejects forms pg accepts, such as a socket directory and no host
 * (`postgres://owner:secret@/atelier?host=/run/postgresql`).
 */
export function readerUrl(ownerUrl: string, owner: OwnerIdentity = ownerIdentity(ownerUrl)): string {
  // The password is base64url: nothing in it needs escaping in a URL.
  return ownerUrl.replace(/^(postgres(?:ql)?:\/\/)(?:[^@/?#]*@)?/, `$1${READER_ROLE}:${readerPassword(owner)}@`);
}

/**
 * Why the owner does not provision the reader, in words for the operator's log; the workers
 * then connect as the owner.
 */
export class ReaderRefusedError extends Error {}

const noCreateRole = (): ReaderRefusedError =>
  new ReaderRefusedError(`the database owner may not create roles: workers connect as the owner (grant CREATEROLE, or create ${READER_ROLE})`);

// Roles are cluster-wide: provisioning a reader another owner manages would rotate that
// deployment's reader password under its workers.
const managedByOther = (other: string): ReaderRefusedError =>
  new ReaderRefusedError(
    `${READER_ROLE} on this PostgreSQL cluster is managed by the owner role "${other}": workers connect as the owner ` +
      '(deployments sharing a cluster must share one owner role)',
  );

// Marks the reader with the owner role that manages it (a role comment is cluster-wide, like the role).
const MANAGED_BY = 'atelier-products reader managed by owner ';

/**
 * Creates (or updates) the read-only role and grants it SELECT on the live catalog and, through
 * default privileges, on every catalog schema the owner builds later (reloads). Needs an owner
 * with CREATEROLE; returns the reader's connection string. Throws ReaderRefusedError, and
 * leaves the role alone, when the owner may not create roles or another owner role manages it.
 */
export async function provisionReader(owner: pg.Client, ownerUrl: string): Promise<string> {
  // As connected: a password pg found in ~/.pgpass counts too.
  const identity: OwnerIdentity = { user: owner.user ?? '', password: owner.password ?? '' };
  // One transaction: the role never exists without its grants (a worker logging in between
  // would get "permission denied"), and the lock serialises instances starting together,
  // which would otherwise race to CREATE the same role.
  await owner.query('BEGIN');
  try {
    await owner.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.reader]);
    await grantReader(owner, identity);
    await owner.query('COMMIT');
  } catch (err) {
    await owner.query('ROLLBACK');
    // Denied anyway (PostgreSQL 16 also wants ADMIN OPTION on a role it did not create).
    throw (err as { code?: string }).code === '42501' ? noCreateRole() : err;
  }
  return readerUrl(ownerUrl, identity);
}

async function grantReader(owner: pg.ClientBase, identity: OwnerIdentity): Promise<void> {
  const { rows } = await owner.query<{ may: boolean; exists: boolean; comment: string | null }>(
    `SELECT (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user) AS may,
            EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists,
            (SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1) AS comment`,
    [READER_ROLE],
  );
  const { may, exists, comment } = rows[0]!;
  if (!may) throw noCreateRole();
  // A role without the mark (made by hand, or by an older release) is adopted.
  const managedBy = comment?.startsWith(MANAGED_BY) ? comment.slice(MANAGED_BY.length) : undefined;
  if (managedBy !== undefined && managedBy !== identity.user) throw managedByOther(managedBy);
  // Identifiers and a password literal cannot be bound parameters in DDL: format() quotes them.
  const verb = exists ? 'ALTER' : 'CREATE';
  const { rows: ddl } = await owner.query<{ role: string; comment: string }>(
    `SELECT format('${verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD %L', $1::text, $2::text) AS role,
            format('COMMENT ON ROLE %I IS %L', $1::text, $3::text) AS comment`,
    [READER_ROLE, readerPassword(identity), MANAGED_BY + identity.user],
  );
  await owner.query(ddl[0]!.role);
  await owner.query(ddl[0]!.comment);
  // Belt and braces: even a privilege granted by mistake cannot write.
  await owner.query(`ALTER ROLE ${READER_ROLE} SET default_transaction_read_only = on`);
  await owner.query(`GRANT USAGE ON SCHEMA ${CATALOG_SCHEMA} TO ${READER_ROLE}`);
  await owner.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${CATALOG_SCHEMA} TO ${READER_ROLE}`);
  await owner.query(`ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO ${READER_ROLE}`);
  await owner.query(`ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO ${READER_ROLE}`);
}
