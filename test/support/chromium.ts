import { chromium, type Browser } from 'playwright-core';
import { findBinary, requireTool } from './binaries';

/**
 * Debian's Chromium, headless, driven by playwright-core (which downloads nothing): skipped on
 * a developer machine without it, failing under CI, like every Debian tool the tests use.
 */
export function launchChromium(ctx: Mocha.Context): Promise<Browser> {
  const executablePath = requireTool(ctx, findBinary('chromium'), 'chromium', 'chromium');
  return chromium.launch({
    executablePath,
    // As root in a sandbox-less container; no background traffic to a network that is not there.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
