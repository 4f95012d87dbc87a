import fs from 'node:fs';
import path from 'node:path';
import { BadFileError } from './errors';
import { FILES, headerOf } from './files';

// A header line is short; reading this much always covers it.
const HEADER_PROBE_BYTES = 4096;

/**
 * Checks, before any work, that all six files exist and start with their exact header
 * (a UTF-8 BOM and a CRLF line end are tolerated). Returns each file's size in bytes.
 * Throws one BadFileError naming every problem.
 */
export function preflight(dir: string): Map<string, number> {
  const problems: string[] = [];
  const sizes = new Map<string, number>();
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new BadFileError(`${dir} is not a directory`);
  }
  for (const spec of FILES) {
    const file = path.join(dir, spec.file);
    let fd: number | undefined;
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile()) {
        problems.push(`${spec.file}: not a regular file`);
        continue;
      }
      sizes.set(spec.file, stat.size);
      fd = fs.openSync(file, 'r');
      const probe = Buffer.alloc(HEADER_PROBE_BYTES);
      const n = fs.readSync(fd, probe, 0, probe.length, 0);
      let text = probe.toString('utf8', 0, n);
      if (text.startsWith('\ufeff')) text = text.slice(1);
      const newline = text.indexOf('\n');
      const first = (newline === -1 ? text : text.slice(0, newline)).replace(/\r$/, '');
      const expected = headerOf(spec);
      if (n === 0) problems.push(`${spec.file}: empty file (expected header "${expected}")`);
      else if (first !== expected) {
        problems.push(`${spec.file}: header is "${first.slice(0, 200)}", expected "${expected}"`);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push(code === 'ENOENT' ? `${spec.file}: missing` : `${spec.file}: ${(err as Error).message}`);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  if (problems.length > 0) throw new BadFileError(`bad input in ${dir}: ${problems.join('; ')}`);
  return sizes;
}
