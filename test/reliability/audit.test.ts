import { expect } from 'chai';
import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

interface AuditReport {
  vulnerabilities?: Record<string, { severity: string; via: unknown[]; fixAvailable?: unknown }>;
  metadata?: { vulnerabilities?: Record<'info' | 'low' | 'moderate' | 'high' | 'critical' | 'total', number> };
  message?: string;
  error?: { code?: string; summary?: string; detail?: string };
}

/** `npm audit --omit=dev --audit-level=high --json` in the project; resolves with npm's JSON. */
function audit(): Promise<{ report: AuditReport | undefined; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['audit', '--omit=dev', '--audit-level=high', '--json'],
      { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      // npm exits 1 both for findings at or above the level and for its own errors: the JSON says which.
      (_err, stdout, stderr) => {
        let report: AuditReport | undefined;
        try {
          report = JSON.parse(stdout) as AuditReport;
        } catch {
          report = undefined;
        }
        resolve({ report, stderr });
      },
    );
  });
}

/**
 * The dependencies that ship (not dev tools) have no known high or critical advisory. Needs
 * the registry's advisory endpoint. Where the registry refuses that endpoint (this project's
 * build machines and CI reach the registry through a proxy that answers the advisory POST
 * with 405), there is no verdict to check: the test says so and skips, in CI too, rather than
 * fail every build on something the code cannot change. Any report it does get is enforced.
 */
describe('reliability: npm audit of the production dependencies', function () {
  this.timeout(90_000);

  it('when the registry is asked about every shipped package, then none has a high or critical advisory', async function () {
    const { report, stderr } = await audit();
    const counts = report?.metadata?.vulnerabilities;
    if (counts === undefined) {
      const why = report?.message ?? report?.error?.summary ?? report?.error?.code ?? (stderr.trim().split('\n').pop() || 'no JSON report');
      console.warn(`      skipped: npm audit got no verdict from the registry: ${why}`);
      this.skip();
    }
    const serious = Object.entries(report?.vulnerabilities ?? {})
      .filter(([, v]) => v.severity === 'high' || v.severity === 'critical')
      .map(([name, v]) => `${name} (${v.severity})`);
    console.log(`      npm audit --omit=dev: ${JSON.stringify(counts)}`);
    expect(serious, 'packages with high or critical advisories (npm audit --omit=dev)').to.deep.equal([]);
    expect(counts.high + counts.critical).to.equal(0);
  });
});
