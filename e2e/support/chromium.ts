import { loadConfig } from '@echelon/config';

/** The browser the suite drives: Debian's chromium unless CHROMIUM_PATH names another build. */
export const CHROMIUM_EXECUTABLE = loadConfig().chromiumPath ?? '/usr/bin/chromium';

/** Flags for a headless run in a container: no sandbox, no GPU, no background traffic that could slow a test. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
