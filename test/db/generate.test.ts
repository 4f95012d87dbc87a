import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runTool } from './support/run-tool';

describe('npm run data:generate (command line)', function () {
  this.timeout(30_000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-generate-cli-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const [option, value, expected] of [
    ['--products', '0', '--products must be an integer from 1 to 50000000 (got "0")'],
    ['--seed', '1.5', '--seed must be an integer from 0 to 4294967295 (got "1.5")'],
    ['--defect-rate', 'x', '--defect-rate must be a number from 0 to 0.05 (got "x")'],
  ] as const) {
    it(`when ${option} is ${value}, then it exits 1 writing nothing, naming the option, its range and the value`, async () => {
      const out = path.join(tmp, `out${option}`);
      const { code, stderr } = await runTool('db/generate.ts', ['--out', out, option, value], {}).done;
      expect(code).to.equal(1);
      expect(stderr).to.equal(`data:generate failed: ${expected}\n`);
      expect(fs.existsSync(out)).to.equal(false);
    });
  }
});
