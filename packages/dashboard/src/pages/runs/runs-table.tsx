import { Link } from "wouter-preact";
import type { Run } from "../../api/runs.js";
import { StatusBadge } from "../../components/status-badge.js";
import { formatDuration, formatTime, formatUsd } from "../../format.js";

function devicesOf(run: Run): string {
  if (run.deviceInfos.length === 0) return "—";
  const names = run.deviceInfos.map((d) => d.name ?? `device ${d.deviceId}`);
  return names.length <= 2 ? names.join(", ") : `${names.slice(0, 2).join(", ")} +${names.length - 2}`;
}

/**
 * A table of runs. With `ownersFor`, it lists every user's runs with an Owner column (the admin
 * view): only the signed-in user's own runs link to a run page, since other users' run pages are
 * theirs alone.
 */
export function RunsTable({ runs, ownersFor }: { runs: Run[]; ownersFor?: string }) {
  const withOwners = ownersFor !== undefined;
  if (withOwners && runs.length === 0) return <p class="hint">No runs yet.</p>;
  return (
    <table class="runs-table" data-testid={withOwners ? "all-runs-table" : "runs-table"}>
      <thead>
        <tr>
          <th>Status</th>
          <th>Run</th>
          {withOwners && <th>Owner</th>}
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
              {!withOwners || run.ownerName === ownersFor ? (
                <Link href={`/runs/${run.runId}`}>#{run.runId}</Link>
              ) : (
                `#${run.runId}`
              )}
            </td>
            {withOwners && <td>{run.ownerName ?? "—"}</td>}
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
