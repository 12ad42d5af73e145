/**
 * Stands in for Cloud Scheduler under the emulators: calls each endpoint of SCHEDULES at
 * the times its cron expression names, with the cron key, and logs the answers.
 */
import { CronExpressionParser } from 'cron-parser';
import { SCHEDULES, type ScheduleDefinition } from '../functions/src/scheduler/schedules.js';

export interface SchedulerLoop {
  stop(): void;
}

export function startSchedulerLoop(options: { functionsBaseUrl: string; cronKey: string; log?: (line: string) => void }): SchedulerLoop {
  const log = options.log ?? ((line: string) => console.log(line));
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const call = async (schedule: ScheduleDefinition) => {
    try {
      const response = await fetch(`${options.functionsBaseUrl}/${schedule.endpoint}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-cron-key': options.cronKey },
        body: JSON.stringify(schedule.body),
      });
      log(`[scheduler] ${schedule.name}: ${response.status}`);
    } catch (error) {
      log(`[scheduler] ${schedule.name}: unreachable (${error instanceof Error ? error.message : 'unknown'})`);
    }
  };

  const plan = (schedule: ScheduleDefinition) => {
    if (stopped) return;
    const next = CronExpressionParser.parse(schedule.cron, { tz: schedule.timeZone }).next().toDate();
    const timer = setTimeout(() => {
      timers.delete(timer);
      void call(schedule).finally(() => plan(schedule));
    }, Math.max(0, next.getTime() - Date.now()));
    timers.add(timer);
  };

  for (const schedule of SCHEDULES) {
    plan(schedule);
    log(`[scheduler] ${schedule.name} (${schedule.cron}) -> POST /${schedule.endpoint}`);
  }
  return {
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
