// Splits each secondary's lateness into the steps that make it up, from the workflow's Temporal history and the
// replica rows, so that a report can say which step dominated.
//
// From the moment the previous copy is stamped COMPLETED (planned time = that + delay) to the moment the next copy
// is stamped COPYING, the steps are, in order:
//   copyReturn      previous copy activity: COMPLETED stamp in the DB -> ActivityTaskCompleted at the server
//   wftToWaiting    workflow task: previous copy completed -> markWaiting scheduled
//   waitingQueue    markWaiting: scheduled -> started (waiting for a worker activity slot / poll)
//   waitingRun      markWaiting: started -> completed (its database work)
//   wftToTimer      workflow task: markWaiting completed -> timer started
//   timerOvershoot  timer fired - timer started - delay (the server's timer accuracy)
//   wftToCopy       workflow task: timer fired -> copySecondary scheduled
//   copyQueue       copySecondary: scheduled -> started (waiting for a worker activity slot / poll)
//   copyPrologue    copySecondary started -> COPYING stamped in the DB (dispatch reads, reservation, transition)
// Their sum is exactly the lateness (startedAt - previous completedAt - delay) when no attempt was retried.
//
// Runs with the hand-over (patch 'delay-from-previous-completion': the copy records the next replica WAITING and
// the timer is set for previous completedAt + delay) have no markWaiting and time the delay from the completion:
// copyReturn, wftToWaiting, waitingQueue, waitingRun and wftToTimer are 0 (they happen during the delay), and
//   timerOvershoot  timer fired - planned time (previous completedAt + delay): the server's timer accuracy, plus
//                   whatever part of the hand-over outlasted the delay
// so that timerOvershoot + wftToCopy + copyQueue + copyPrologue is exactly the lateness.
//
// The three workflow-task steps are split once more, summed over the three workflow tasks on the path:
//   wftQueue        WorkflowTaskScheduled -> WorkflowTaskStarted: the task waits in the server's task queue until
//                   a worker poller takes it (few pollers, a busy worker, or a slow server)
//   wftRun          WorkflowTaskStarted -> WorkflowTaskCompleted: the worker runs the activation and the server
//                   records the completion
//   wftOther        the rest: e.g. the task was scheduled only after an earlier task of the same workflow ended

export const STEPS = [
  'copyReturn',
  'wftToWaiting',
  'waitingQueue',
  'waitingRun',
  'wftToTimer',
  'timerOvershoot',
  'wftToCopy',
  'copyQueue',
  'copyPrologue',
] as const;
export const WFT_SPLIT = ['wftQueue', 'wftRun', 'wftOther'] as const;
export type Step = (typeof STEPS)[number] | (typeof WFT_SPLIT)[number];
export const ALL_STEPS: readonly Step[] = [...STEPS, ...WFT_SPLIT];
export type StepTimes = Record<Step, number>;

/** The few history fields used here (the SDK's generated types are wider). */
export interface HistoryEventLike {
  eventId?: unknown;
  eventType?: unknown;
  eventTime?: { seconds?: unknown; nanos?: unknown } | null;
  workflowTaskScheduledEventAttributes?: { taskQueue?: { kind?: unknown } | null; attempt?: unknown } | null;
  workflowTaskStartedEventAttributes?: { scheduledEventId?: unknown } | null;
  workflowTaskCompletedEventAttributes?: { scheduledEventId?: unknown; startedEventId?: unknown } | null;
  activityTaskScheduledEventAttributes?: {
    activityType?: { name?: string | null } | null;
    workflowTaskCompletedEventId?: unknown;
  } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: unknown } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: unknown } | null;
  timerStartedEventAttributes?: { workflowTaskCompletedEventId?: unknown } | null;
  timerFiredEventAttributes?: { startedEventId?: unknown } | null;
}

// temporal.api.enums.v1.EventType values.
const EVENT = {
  WORKFLOW_TASK_SCHEDULED: 5,
  WORKFLOW_TASK_STARTED: 6,
  WORKFLOW_TASK_COMPLETED: 7,
  WORKFLOW_TASK_TIMED_OUT: 8,
  WORKFLOW_TASK_FAILED: 9,
  ACTIVITY_TASK_SCHEDULED: 10,
  ACTIVITY_TASK_STARTED: 11,
  ACTIVITY_TASK_COMPLETED: 12,
  TIMER_STARTED: 17,
  TIMER_FIRED: 18,
} as const;
const TASK_QUEUE_KIND_STICKY = 2;

/** Longs, numbers and numeric strings as numbers. */
const num = (value: unknown): number => (value === null || value === undefined ? Number.NaN : Number(String(value)));

const eventType = (event: HistoryEventLike): number => {
  if (typeof event.eventType !== 'string') return num(event.eventType);
  const name = event.eventType.replace(/^EVENT_TYPE_/, '') as keyof typeof EVENT;
  return EVENT[name] ?? -1;
};

const eventMs = (event: HistoryEventLike | undefined): number =>
  event?.eventTime ? num(event.eventTime.seconds) * 1000 + num(event.eventTime.nanos ?? 0) / 1e6 : Number.NaN;

interface ActivityTimes {
  type: string;
  /** The workflow task whose completion scheduled it. */
  byTask: number;
  scheduled: number;
  started: number;
  completed: number;
}

interface TimerTimes {
  byTask: number;
  started: number;
  fired: number;
}

interface WorkflowTaskTimes {
  scheduled: number;
  started: number;
  completed: number;
}

/** Per-history counts and per-task latencies, for the phase summary. */
export interface HistoryStats {
  workflowTasks: number;
  stickyTasks: number;
  timedOutTasks: number;
  failedTasks: number;
  wftQueue: number[];
  wftRun: number[];
}

/** Counts at zero, for one history or for a phase's totals. */
export const emptyHistoryStats = (): HistoryStats => ({
  workflowTasks: 0,
  stickyTasks: 0,
  timedOutTasks: 0,
  failedTasks: 0,
  wftQueue: [],
  wftRun: [],
});

interface ParsedHistory {
  activities: ActivityTimes[];
  timers: TimerTimes[];
  /** By the id of the WorkflowTaskCompleted event. */
  tasksByCompletion: Map<number, WorkflowTaskTimes>;
  stats: HistoryStats;
}

function parseHistory(events: readonly HistoryEventLike[]): ParsedHistory {
  const activities = new Map<number, ActivityTimes>();
  const timers = new Map<number, TimerTimes>();
  const tasks = new Map<number, WorkflowTaskTimes>();
  const tasksByCompletion = new Map<number, WorkflowTaskTimes>();
  const stats = emptyHistoryStats();
  for (const event of events) {
    const id = num(event.eventId);
    const at = eventMs(event);
    switch (eventType(event)) {
      case EVENT.WORKFLOW_TASK_SCHEDULED:
        stats.workflowTasks++;
        if (num(event.workflowTaskScheduledEventAttributes?.taskQueue?.kind) === TASK_QUEUE_KIND_STICKY) {
          stats.stickyTasks++;
        }
        tasks.set(id, { scheduled: at, started: Number.NaN, completed: Number.NaN });
        break;
      case EVENT.WORKFLOW_TASK_STARTED: {
        const task = tasks.get(num(event.workflowTaskStartedEventAttributes?.scheduledEventId));
        if (task) task.started = at;
        break;
      }
      case EVENT.WORKFLOW_TASK_COMPLETED: {
        const task = tasks.get(num(event.workflowTaskCompletedEventAttributes?.scheduledEventId));
        if (task) {
          task.completed = at;
          tasksByCompletion.set(id, task);
          stats.wftQueue.push(task.started - task.scheduled);
          stats.wftRun.push(task.completed - task.started);
        }
        break;
      }
      case EVENT.WORKFLOW_TASK_TIMED_OUT:
        stats.timedOutTasks++;
        break;
      case EVENT.WORKFLOW_TASK_FAILED:
        stats.failedTasks++;
        break;
      case EVENT.ACTIVITY_TASK_SCHEDULED:
        activities.set(id, {
          type: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
          byTask: num(event.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId),
          scheduled: at,
          started: Number.NaN,
          completed: Number.NaN,
        });
        break;
      case EVENT.ACTIVITY_TASK_STARTED: {
        const activity = activities.get(num(event.activityTaskStartedEventAttributes?.scheduledEventId));
        if (activity) activity.started = at;
        break;
      }
      case EVENT.ACTIVITY_TASK_COMPLETED: {
        const activity = activities.get(num(event.activityTaskCompletedEventAttributes?.scheduledEventId));
        if (activity) activity.completed = at;
        break;
      }
      case EVENT.TIMER_STARTED:
        timers.set(id, {
          byTask: num(event.timerStartedEventAttributes?.workflowTaskCompletedEventId),
          started: at,
          fired: Number.NaN,
        });
        break;
      case EVENT.TIMER_FIRED: {
        const timer = timers.get(num(event.timerFiredEventAttributes?.startedEventId));
        if (timer) timer.fired = at;
        break;
      }
    }
  }
  return {
    activities: [...activities.values()].sort((a, b) => a.scheduled - b.scheduled),
    timers: [...timers.values()].sort((a, b) => a.started - b.started),
    tasksByCompletion,
    stats,
  };
}

export interface ReplicaTimes {
  order: number;
  startedAt: Date | null;
  completedAt: Date | null;
}

/**
 * The steps of every secondary of one job (index 0 is the secondary with order 1), and the history's task
 * statistics. A secondary whose history does not have the expected shape (no timer, say) is left out.
 */
export function analyseHistory(
  events: readonly HistoryEventLike[],
  replicas: readonly ReplicaTimes[],
  delayMs: number,
): { secondaries: StepTimes[]; stats: HistoryStats } {
  const { activities, timers, tasksByCompletion, stats } = parseHistory(events);
  const copies = activities.filter((activity) => activity.type === 'copyPrimary' || activity.type === 'copySecondary');
  const waits = activities.filter((activity) => activity.type === 'markWaiting');
  const secondaries: StepTimes[] = [];
  for (let order = 1; order < copies.length; order++) {
    const previousCopy = copies[order - 1]!;
    const copy = copies[order]!;
    const waiting = waits[order - 1];
    const timer = timers[order - 1];
    const previousReplica = replicas.find((replica) => replica.order === order - 1);
    const replica = replicas.find((replica) => replica.order === order);
    if (!timer || !previousReplica?.completedAt || !replica?.startedAt) continue;
    const copyTask = tasksByCompletion.get(copy.byTask);
    const wftToCopy = copy.scheduled - timer.fired;
    if (!waiting || waiting.scheduled > timer.started) {
      // Hand-over: the delay is timed from the previous copy's completion.
      const planned = previousReplica.completedAt.getTime() + delayMs;
      const wftQueue = copyTask ? copyTask.started - copyTask.scheduled : 0;
      const wftRun = copyTask ? copyTask.completed - copyTask.started : 0;
      secondaries.push({
        copyReturn: 0,
        wftToWaiting: 0,
        waitingQueue: 0,
        waitingRun: 0,
        wftToTimer: 0,
        timerOvershoot: timer.fired - planned,
        wftToCopy,
        copyQueue: copy.started - copy.scheduled,
        copyPrologue: replica.startedAt.getTime() - copy.started,
        wftQueue,
        wftRun,
        wftOther: wftToCopy - wftQueue - wftRun,
      });
      continue;
    }
    const wftToWaiting = waiting.scheduled - previousCopy.completed;
    const wftToTimer = timer.started - waiting.completed;
    let wftQueue = 0;
    let wftRun = 0;
    for (const task of [waiting.byTask, timer.byTask, copy.byTask].map((id) => tasksByCompletion.get(id))) {
      if (task === undefined) continue;
      wftQueue += task.started - task.scheduled;
      wftRun += task.completed - task.started;
    }
    secondaries.push({
      copyReturn: previousCopy.completed - previousReplica.completedAt.getTime(),
      wftToWaiting,
      waitingQueue: waiting.started - waiting.scheduled,
      waitingRun: waiting.completed - waiting.started,
      wftToTimer,
      timerOvershoot: timer.fired - timer.started - delayMs,
      wftToCopy,
      copyQueue: copy.started - copy.scheduled,
      copyPrologue: replica.startedAt.getTime() - copy.started,
      wftQueue,
      wftRun,
      wftOther: wftToCopy + wftToWaiting + wftToTimer - wftQueue - wftRun,
    });
  }
  return { secondaries, stats };
}
