import type { EndpointModel } from "@fedml/core";
import { RunLinks } from "../../components/run-links.js";
import { StatusBadge } from "../../components/status-badge.js";
import { formatTime } from "../../format.js";

/** An endpoint's replicas as `fedml endpoint status ID` lists them. */
export function ReplicasTable({ endpoint }: { endpoint: EndpointModel }) {
  if (endpoint.replicas.length === 0) return <p class="hint">No replica yet.</p>;
  return (
    <table data-testid="replicas-table">
      <thead>
        <tr>
          <th>Status</th>
          <th>Run</th>
          <th>Device</th>
          <th class="num">Generation</th>
          <th class="num">Requests</th>
          <th class="num">Errors</th>
          <th class="num">In flight</th>
          <th>Ready since</th>
        </tr>
      </thead>
      <tbody>
        {endpoint.replicas.map((r) => (
          <tr key={r.runId}>
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td>
              <RunLinks ids={[r.runId]} />
            </td>
            <td>{r.deviceId ?? "—"}</td>
            <td class="num">{r.generation}</td>
            <td class="num">{r.requestCount}</td>
            <td class="num">{r.errorCount}</td>
            <td class="num">{r.inflightRequests}</td>
            <td>{formatTime(r.readyTime)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
