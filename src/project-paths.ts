import fs from 'node:fs';
import path from 'node:path';

/** The project root (the folder holding package.json), from src/ or from dist/src/. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + __dirname);
    dir = parent;
  }
  return dir;
}

export const dbDir = (): string => path.join(projectRoot(), 'db');
