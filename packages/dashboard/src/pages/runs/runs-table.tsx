import { Link } from "wouter-preact";
import type { Run } from "../../api/runs.js";
import { StatusBadge } from "../../components/status-badge.js";
import { formatDuration, formatTime, formatUsd } from "../../format.js";

function devicesOf(run: Run): string {
  if (run.deviceInfos.length === 0) return "—";
  const names = run.deviceInfos.map((d) => d.name ?? `device ${d.deviceId}`);
  return names.length <= 2 ? names.join(", ") : `${names.slice(0, 2).join(", ")} +${names.length - 2}`;
}

export function RunsTable({ runs }: { runs: Run[] }) {
  return (
    <table class="runs-table" data-testid="runs-table">
      <thead>
        <tr>
          <th>Status</th>
          <th>Run</th>
          <th>Name</th>
          <th>Project</th>
          <th>Devices</th>
          <th>Started</th>
          <th>Duration</th>
          <th class="num">Cost</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.runId} data-run-id={run.runId}>
            <td>
              <StatusBadge status={run.status} />
            </td>
            <td>
              <Link href={`/runs/${run.runId}`}>#{run.runId}</Link>
            </td>
            <td class="name" title={run.reason ?? undefined}>
              {run.runName}
            </td>
            <td>{run.projectName}</td>
            <td>{devicesOf(run)}</td>
            <td>{formatTime(run.startedTime)}</td>
            <td>{run.startedTime ? formatDuration(run.runningTime) : "—"}</td>
            <td class="num">{formatUsd(run.cost)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
