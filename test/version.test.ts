import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readVersion } from '../src/version';

describe('readVersion', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-version-'));
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ version: '1.2.3' }));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when a release holds VERSION, then its trimmed content is the version', () => {
    fs.writeFileSync(path.join(dir, 'VERSION'), '1.2.3-0123456789ab\n');
    expect(readVersion(dir)).to.equal('1.2.3-0123456789ab');
  });

  it('when there is no VERSION (a checkout), then the version is package.json version + "-dev"', () => {
    expect(readVersion(dir)).to.equal('1.2.3-dev');
  });

  it('when VERSION holds something that is not a version, then reading it fails naming the file', () => {
    fs.writeFileSync(path.join(dir, 'VERSION'), '<script>\n');
    expect(() => readVersion(dir)).to.throw(/VERSION does not hold a version/);
  });

  it('when read from this checkout (which holds no VERSION), then it is the package version + "-dev"', () => {
    const root = path.join(__dirname, '..');
    expect(fs.existsSync(path.join(root, 'VERSION')), 'a checkout has no VERSION file').to.equal(false);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(readVersion()).to.equal(`${pkg.version}-dev`);
  });
});
