import type { RunDetail } from "@fedml/core";
import type { Run } from "../../api/runs.js";
import { formatDuration, formatTime } from "../../format.js";

const WAITING = new Set(["QUEUED", "CLUSTER_QUEUE", "PRE_QUEUE"]);
/** Placed this long after the launch: it waited in the queue, not only for the launch's own transaction. */
const QUEUED_AFTER_MS = 1000;

interface Step {
  label: string;
  time: number | null;
  note?: string;
  state: "done" | "now" | "later";
}

/** The run's steps: created, queued (and why), started, ended (and how). Pure. */
export function timelineOf(run: Run, detail: RunDetail | undefined): Step[] {
  const waiting = WAITING.has(run.status);
  const placed = detail?.placedTime ?? null;
  const steps: Step[] = [{ label: "Created", time: run.createdTime, state: "done" }];
  if (waiting) {
    steps.push({ label: "Queued", time: run.createdTime, note: run.reason ?? "waiting for a device", state: "now" });
  } else if (placed !== null && placed - run.createdTime >= QUEUED_AFTER_MS) {
    steps.push({
      label: "Queued",
      time: run.createdTime,
      note: `waited ${formatDuration(placed - run.createdTime)}`,
      state: "done",
    });
  }
  const ended = run.endedTime !== null;
  steps.push({
    label: "Started",
    time: run.startedTime,
    state: run.startedTime ? "done" : waiting ? "later" : "now",
    note: run.startedTime && !ended ? `running for ${formatDuration(run.runningTime)}` : undefined,
  });
  const how = run.exitCode !== null ? `${run.status}, exit code ${run.exitCode}` : run.status;
  steps.push({
    label: "Ended",
    time: run.endedTime,
    state: ended ? "done" : "later",
    note: ended ? `${how}${run.reason ? `: ${run.reason}` : ""}` : undefined,
  });
  return steps;
}

export function Timeline({ run, detail }: { run: Run; detail: RunDetail | undefined }) {
  return (
    <ol class="timeline" data-testid="timeline">
      {timelineOf(run, detail).map((s) => (
        <li key={s.label} class={`step ${s.state}`} data-step={s.label.toLowerCase()}>
          <span class="dot" />
          <div>
            <strong>{s.label}</strong> <span class="hint">{formatTime(s.time)}</span>
            {s.note && <div class="note">{s.note}</div>}
          </div>
        </li>
      ))}
    </ol>
  );
}
