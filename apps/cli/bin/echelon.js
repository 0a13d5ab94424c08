#!/usr/bin/env node
// The `echelon` binary: TypeScript sources run through tsx, resolved from this package wherever it is linked.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/main.ts');
const status = await runCli(
  process.argv.slice(2),
  process.env,
  {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isInteractive: process.stderr.isTTY === true,
  },
  { on: (signal, listener) => process.on(signal, listener), exit: (code) => process.exit(code) },
);
// Open sockets or timers must not hold the answer back: the status is final.
process.exitCode = status;
process.stdout.write('', () => process.exit(status));
