/**
 * Advisory lock keys every instance and tool shares, in one place so no two can collide
 * (they once did: a service starting during a catalog load waited for the load to finish).
 */
export const ADVISORY_LOCKS = {
  /** Held while a catalog schema changes: migrations, and the schema swap of a reload. */
  migration: 7_301_988,
  /** Held while the read-only role is created or its password set (instances starting together). */
  reader: 7_301_990,
  /** Held for a whole catalog load or refresh: one per database at a time. */
  reload: 7_301_989,
} as const;
