import { isTerminalRunStatus } from "@fedml/core/statuses";
import { ApiError } from "../../api/client.js";
import { getRun, getRunDetail, stopRun } from "../../api/runs.js";
import { ConfirmDialogButton } from "../../components/confirm-dialog-button.js";
import { NotFound } from "../../components/not-found.js";
import { StatusBadge } from "../../components/status-badge.js";
import { formatDuration, formatUsd } from "../../format.js";
import { usePoll } from "../../hooks/use-poll.js";
import type { PageProps } from "../page-definition.js";
import { DevicesTable } from "./devices-table.js";
import { LogViewer } from "./logs/log-viewer.js";
import { Timeline } from "./timeline.js";

/** `/runs/N`, the URL every launch prints: the run's state, devices, cost, YAML and live logs. */
export function RunDetailPage({ params }: PageProps) {
  const id = params.id ?? "";
  const run = usePoll((signal) => getRun(id, signal), [id], 1500);
  const ended = run.data ? isTerminalRunStatus(run.data.status) : false;
  // The placement time changes once; the YAML never.
  const detail = usePoll((signal) => getRunDetail(id, signal), [id, ended], ended ? 0 : 3000);

  if (run.error instanceof ApiError && run.error.status === 404) return <NotFound what={`Run ${id}`} />;
  const r = run.data;
  return (
    <section class="run-detail">
      <div class="page-head">
        <h1>
          Run #{id} {r && <StatusBadge status={r.status} />} {r && <span class="run-name">{r.runName}</span>}
        </h1>
        {r && !ended && (
          <ConfirmDialogButton
            label="Stop"
            question={`Stop run #${id} (${r.runName})? Its processes get SIGTERM, then SIGKILL after the grace period.`}
            confirmLabel="Stop the run"
            onConfirm={async () => {
              await stopRun(id);
              run.reload();
            }}
          />
        )}
      </div>
      {run.error && <p class="error">{run.error.message}</p>}
      {r && (
        <>
          <div class="facts">
            <span>
              Project <strong>{r.projectName}</strong>
            </span>
            <span>
              Type <strong>{r.jobType}</strong>
            </span>
            <span>
              Running time <strong>{formatDuration(r.runningTime)}</strong>
            </span>
            <span data-testid="run-cost">
              Cost so far <strong>{formatUsd(r.cost)}</strong>
            </span>
          </div>
          <div class="columns">
            <div>
              <h2>Timeline</h2>
              <Timeline run={r} detail={detail.data} />
            </div>
            <div class="grow">
              <h2>Devices and ranks</h2>
              <DevicesTable run={r} />
            </div>
          </div>
          <details class="yaml">
            <summary>Job YAML</summary>
            <pre data-testid="job-yaml">{detail.data?.yamlText ?? "…"}</pre>
          </details>
        </>
      )}
      <h2>Logs</h2>
      <LogViewer runId={id} />
    </section>
  );
}
