import type { FedMLRunModel } from "@fedml/core";
import { Link } from "wouter-preact";
import { StatusBadge } from "../../components/status-badge.js";
import { formatTime, formatUsd } from "../../format.js";

/** Every user's runs with their owners (run pages of other users' runs are theirs: not linked). */
export function AllRunsTable({ runs, me }: { runs: FedMLRunModel[]; me: string }) {
  if (runs.length === 0) return <p class="hint">No runs yet.</p>;
  return (
    <table data-testid="all-runs-table">
      <thead>
        <tr>
          <th>Status</th>
          <th>Run</th>
          <th>Owner</th>
          <th>Name</th>
          <th>Project</th>
          <th>Devices</th>
          <th>Created</th>
          <th class="num">Cost</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.runId} data-run-id={run.runId}>
            <td>
              <StatusBadge status={run.status} />
            </td>
            <td>{run.ownerName === me ? <Link href={`/runs/${run.runId}`}>#{run.runId}</Link> : `#${run.runId}`}</td>
            <td>{run.ownerName ?? "—"}</td>
            <td class="name" title={run.reason ?? undefined}>
              {run.runName}
            </td>
            <td>{run.projectName}</td>
            <td>{run.deviceInfos.map((d) => d.name ?? d.deviceId).join(", ") || "—"}</td>
            <td>{formatTime(run.createdTime)}</td>
            <td class="num">{formatUsd(run.cost)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
