import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The workflow code bundled by a child process and read back: the worker passes the code to Temporal itself
 * (`workflowBundle`) instead of a path to bundle in-process. Bundling in the worker left webpack's working set in
 * its heap for good: an idle worker held 444 MiB, most of the 512 MiB budget of a 10 GiB backup
 * (docs/benchmarks.md). The child exits when done, and its memory goes with it.
 */
export async function bundleWorkflowsInChild(workflowsPath: string): Promise<{ code: string }> {
  const here = fileURLToPath(import.meta.url);
  const script = path.join(path.dirname(here), `bundle-workflows${path.extname(here)}`);
  const out = path.join(os.tmpdir(), `echelon-workflows-${process.pid}-${randomUUID()}.js`);
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [...process.execArgv, script, workflowsPath, out],
        { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
        (error, _stdout, stderr) => {
          if (error === null) resolve();
          else reject(new Error(`bundling the workflow code failed: ${stderr.trim() || error.message}`));
        },
      );
    });
    return { code: await readFile(out, 'utf8') };
  } finally {
    await rm(out, { force: true });
  }
}
