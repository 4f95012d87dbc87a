import fs from 'node:fs';
import path from 'node:path';
import { BadFileError } from './errors';
import { FILES, headerOf } from './files';

// A header line is short; reading this much always covers it.
const HEADER_PROBE_BYTES = 4096;

/** A change set's optional list of rows to remove: `file` names one of the six files without `.csv`. */
export const DELETIONS_FILE = 'deletions.csv';
export const DELETIONS_HEADER = 'file,id';

interface Expected {
  file: string;
  header: string;
  /** A full load needs every file; a change set any of them. */
  required: boolean;
}

/**
 * Checks, before any work, that the files exist and start with their exact header (a UTF-8
 * BOM and a CRLF line end are tolerated). Returns each present file's size in bytes.
 * Throws one BadFileError naming every problem.
 */
function inspect(dir: string, expected: readonly Expected[]): Map<string, number> {
  const problems: string[] = [];
  const sizes = new Map<string, number>();
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new BadFileError(`${dir} is not a directory`);
  }
  for (const { file: name, header, required } of expected) {
    const file = path.join(dir, name);
    let fd: number | undefined;
    try {
      if (!required && !fs.existsSync(file)) continue;
      const stat = fs.statSync(file);
      if (!stat.isFile()) {
        problems.push(`${name}: not a regular file`);
        continue;
      }
      sizes.set(name, stat.size);
      fd = fs.openSync(file, 'r');
      const probe = Buffer.alloc(HEADER_PROBE_BYTES);
      const n = fs.readSync(fd, probe, 0, probe.length, 0);
      let text = probe.toString('utf8', 0, n);
      if (text.startsWith('\ufeff')) text = text.slice(1);
      const newline = text.indexOf('\n');
      const first = (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, '');
      if (n === 0) problems.push(`${name}: empty file (expected header "${header}")`);
      else if (first !== header) {
        problems.push(`${name}: header is "${first.slice(0, 200)}", expected "${header}"`);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push(code === 'ENOENT' ? `${name}: missing` : `${name}: ${(err as Error).message}`);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  if (problems.length > 0) throw new BadFileError(`bad input in ${dir}: ${problems.join('; ')}`);
  return sizes;
}

/** A full export: all six files, each with its header. */
export function preflight(dir: string): Map<string, number> {
  return inspect(
    dir,
    FILES.map((spec) => ({ file: spec.file, header: headerOf(spec), required: true })),
  );
}

/** A change set: any of the six files and deletions.csv, at least one of them. */
export function preflightChanges(dir: string): Map<string, number> {
  const sizes = inspect(dir, [
    ...FILES.map((spec) => ({ file: spec.file, header: headerOf(spec), required: false })),
    { file: DELETIONS_FILE, header: DELETIONS_HEADER, required: false },
  ]);
  if (sizes.size === 0) {
    throw new BadFileError(
      `${dir} holds no change: expected any of ${[...FILES.map((f) => f.file), DELETIONS_FILE].join(', ')}`,
    );
  }
  return sizes;
}
