// Bundles the workflow code into one file: `node --import tsx bundle-workflows.ts <workflows index> <out file>`.
// The worker runs this in a short-lived child process (see workflow-bundle.ts), so webpack and everything it
// allocates while bundling never stay in the worker's own memory.
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

const [workflowsPath, out] = process.argv.slice(2);
if (workflowsPath === undefined || out === undefined) {
  console.error('usage: bundle-workflows <workflows index> <out file>');
  process.exit(2);
}
const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
await writeFile(out, code, { mode: 0o600 });
