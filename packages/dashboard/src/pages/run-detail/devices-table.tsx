import type { Run } from "../../api/runs.js";
import { StatusBadge } from "../../components/status-badge.js";

/** The run's devices in rank order: what each runs and how it ended. */
export function DevicesTable({ run }: { run: Run }) {
  if (run.deviceInfos.length === 0) return <p class="hint">No device yet.</p>;
  const parts = [...run.deviceInfos].sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
  return (
    <table data-testid="run-devices">
      <thead>
        <tr>
          <th>Rank</th>
          <th>Device</th>
          <th>Status</th>
          <th>GPUs</th>
          <th>OS</th>
          <th>Exit code</th>
        </tr>
      </thead>
      <tbody>
        {parts.map((d) => (
          <tr key={d.deviceId}>
            <td>{d.rank ?? "—"}</td>
            <td>
              {d.name ?? d.deviceId} <span class="hint">#{d.deviceId}</span>
            </td>
            <td>{d.status ? <StatusBadge status={d.status} /> : "—"}</td>
            <td>{d.gpuCount > 0 ? `${d.gpuCount} (${(d.gpuIndices ?? []).join(", ")})` : "CPU"}</td>
            <td>
              {d.osType} {d.osVersion}
            </td>
            <td>{d.exitCode ?? "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
