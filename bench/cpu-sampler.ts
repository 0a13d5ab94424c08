// Where the CPU goes during a benchmark: samples /proc once a second for this process's descendants (grouped as
// worker, api, temporal, postgres) and for the whole machine, so that a report can say which component was busy.
// Linux only; elsewhere it reports nothing.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export type CpuGroup = 'worker' | 'api' | 'temporal' | 'postgres' | 'bench' | 'other';
export const CPU_GROUPS: readonly CpuGroup[] = ['worker', 'api', 'temporal', 'postgres', 'bench', 'other'];

export interface CpuMark {
  at: number;
  /** Cumulative clock ticks per group since the sampler started. */
  groups: Record<CpuGroup, number>;
  machineBusy: number;
  machineIowait: number;
  machineTotal: number;
}

export interface CpuUsage {
  seconds: number;
  /** Average cores used per group over the window (1.0 = one core fully busy). */
  cores: Record<CpuGroup, number>;
  /** Share of all cores busy, machine-wide (includes processes that are not ours). */
  machineBusyShare: number;
  /** Share of all cores idle while waiting for I/O, machine-wide. */
  machineIowaitShare: number;
  /** Highest one-second machine-wide busy share seen in the window. */
  machinePeakShare: number;
}

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number;
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // The command name is in parentheses and may contain spaces: fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ppid) && Number.isFinite(ticks) ? { pid, ppid, ticks } : undefined;
}

async function classify(pid: number): Promise<CpuGroup> {
  if (pid === process.pid) return 'bench';
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
  if (cmdline.includes('worker.ts')) return 'worker';
  if (cmdline.includes('apps/api/src/main.ts')) return 'api';
  if (cmdline.includes('start-dev')) return 'temporal';
  if (/(^|\/)postgres\b/.test(cmdline) || cmdline.startsWith('postgres:')) return 'postgres';
  return 'other';
}

async function machineTicks(): Promise<{ busy: number; iowait: number; total: number }> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => '');
  const line = text.split('\n').find((candidate) => candidate.startsWith('cpu '));
  if (line === undefined) return { busy: 0, iowait: 0, total: 0 };
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const iowait = values[4] ?? 0;
  return { busy: total - (values[3] ?? 0) - iowait, iowait, total };
}

const zeroGroups = (): Record<CpuGroup, number> => ({
  worker: 0,
  api: 0,
  temporal: 0,
  postgres: 0,
  bench: 0,
  other: 0,
});

export class CpuSampler {
  private readonly ticksPerSecond = clockTicks();
  private readonly lastTicks = new Map<number, { ticks: number; group: CpuGroup }>();
  private readonly totals = zeroGroups();
  private readonly marks: CpuMark[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> = Promise.resolve();
  private first = true;

  start(intervalMs = 1_000): void {
    if (process.platform !== 'linux' || this.timer !== undefined) return;
    this.sampling = this.sample();
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample());
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  /** Takes a sample now and returns it, to bracket a phase. */
  async mark(): Promise<CpuMark | undefined> {
    if (process.platform !== 'linux') return undefined;
    this.sampling = this.sampling.then(() => this.sample());
    await this.sampling;
    return this.marks.at(-1);
  }

  usage(from: CpuMark | undefined, to: CpuMark | undefined): CpuUsage | undefined {
    if (from === undefined || to === undefined || to.at <= from.at) return undefined;
    const seconds = (to.at - from.at) / 1000;
    const cores = zeroGroups();
    for (const group of CPU_GROUPS) {
      cores[group] = (to.groups[group] - from.groups[group]) / this.ticksPerSecond / seconds;
    }
    const window = this.marks.filter((mark) => mark.at >= from.at && mark.at <= to.at);
    let peak = 0;
    for (let index = 1; index < window.length; index++) {
      const previous = window[index - 1]!;
      const current = window[index]!;
      const total = current.machineTotal - previous.machineTotal;
      if (total > 0) peak = Math.max(peak, (current.machineBusy - previous.machineBusy) / total);
    }
    const total = to.machineTotal - from.machineTotal;
    return {
      seconds,
      cores,
      machineBusyShare: total > 0 ? (to.machineBusy - from.machineBusy) / total : Number.NaN,
      machineIowaitShare: total > 0 ? (to.machineIowait - from.machineIowait) / total : Number.NaN,
      machinePeakShare: peak,
    };
  }

  private async sample(): Promise<void> {
    const entries = await readdir('/proc').catch(() => [] as string[]);
    const stats: ProcStat[] = [];
    // Bounded by the machine's process count; each read is one small file.
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readProcStat(Number(entry));
      if (stat !== undefined) stats.push(stat);
    }
    const children = new Map<number, number[]>();
    for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat.pid]);
    const byPid = new Map(stats.map((stat) => [stat.pid, stat]));
    const ours = new Set<number>([process.pid]);
    const queue = [process.pid];
    while (queue.length > 0 && ours.size < 10_000) {
      for (const child of children.get(queue.shift()!) ?? []) {
        if (!ours.has(child)) {
          ours.add(child);
          queue.push(child);
        }
      }
    }
    for (const pid of ours) {
      const stat = byPid.get(pid);
      if (stat === undefined) continue;
      const previous = this.lastTicks.get(pid);
      const group = previous?.group ?? (await classify(pid));
      // A process first seen after the sampler started counts from zero; those present at start count from then.
      const delta = previous !== undefined ? stat.ticks - previous.ticks : this.first ? 0 : stat.ticks;
      this.totals[group] += Math.max(0, delta);
      this.lastTicks.set(pid, { ticks: stat.ticks, group });
    }
    for (const pid of [...this.lastTicks.keys()]) if (!ours.has(pid)) this.lastTicks.delete(pid);
    this.first = false;
    const machine = await machineTicks();
    this.marks.push({
      at: Date.now(),
      groups: { ...this.totals },
      machineBusy: machine.busy,
      machineIowait: machine.iowait,
      machineTotal: machine.total,
    });
    // Bounded memory: an hour of one-second samples.
    if (this.marks.length > 3_600) this.marks.shift();
  }
}
