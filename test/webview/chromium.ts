/** Debian's Chromium, driven by playwright-core, with the flags from the offline toolchain notes. */
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.DOCENT_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** False when Chromium is there, else why the suites skip. */
export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM} (run scripts/e2e-setup.sh)`;
}
