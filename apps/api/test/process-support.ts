import { readFile, readlink, realpath } from 'node:fs/promises';
import type { ServiceProcess } from '@echelon/stack';

/** Polls `probe` until it returns a value (errors count as "not yet": the database may be restarting). */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const found = await probe();
      if (found !== undefined) return found;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not reached after ${timeoutMs} ms${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Kills the real node process of a service with SIGKILL — no handler runs, nothing is cleaned up — and waits
 * until it is gone. The service runs under a shell guard; the node process is the guard's child.
 */
export async function killHard(service: ServiceProcess, entry: string): Promise<void> {
  const guardPid = service.child.pid;
  if (guardPid === undefined) throw new Error(`${service.name} has no pid`);
  const children = (await readFile(`/proc/${guardPid}/task/${guardPid}/children`, 'utf8')).trim().split(/\s+/);
  // The guard's own subshells carry the same command line; the service is the child that runs node itself.
  const node = await realpath(process.execPath);
  let target: number | undefined;
  for (const child of children) {
    const exe = await readlink(`/proc/${child}/exe`).catch(() => '');
    const cmdline = await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
    if (exe === node && cmdline.includes(entry)) target = Number(child);
  }
  if (target === undefined)
    throw new Error(`no node process running ${entry} under ${service.name}'s guard ${guardPid}`);
  process.kill(target, 'SIGKILL');
  await service.exited;
  // The guard's pipe watcher may outlive it; it belongs to the dead service's process group.
  try {
    process.kill(-guardPid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
