import "./endpoints.css";
import type { EndpointModel } from "@fedml/core";
import { useState } from "preact/hooks";
import { listEndpoints } from "../../api/endpoints.js";
import { StatusBadge } from "../../components/status-badge.js";
import { formatTime } from "../../format.js";
import { usePoll } from "../../hooks/use-poll.js";
import { ReplicasTable } from "./replicas-table.js";
import { RequestBox } from "./request-box.js";

const readyReplicas = (e: EndpointModel) => e.replicas.filter((r) => r.status === "READY").length;

/** The user's serving endpoints, live; pick one to see its replicas and send it a request. */
export function EndpointsPage() {
  const endpoints = usePoll((signal) => listEndpoints(signal), [], 2000);
  const [chosen, setChosen] = useState<string | null>(null);
  const list = endpoints.data?.endpointList;
  const selected = list?.find((e) => e.endpointId === chosen) ?? (list?.length === 1 ? list[0] : undefined);
  return (
    <section class="stack">
      <h1>Endpoints</h1>
      {endpoints.error && <p class="error">{endpoints.error.message}</p>}
      {list && list.length === 0 && (
        <p class="hint">
          No endpoints. Launch a job with <code>job_type: serve</code> (e.g. <code>examples/serve_model/job.yaml</code>).
        </p>
      )}
      {list && list.length > 0 && (
        <table data-testid="endpoints-table">
          <thead>
            <tr>
              <th>Status</th>
              <th>Endpoint</th>
              <th>Inference URL</th>
              <th class="num">Replicas ready / target</th>
              <th class="num">Requests</th>
              <th class="num">Errors</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.map((e) => (
              <tr
                key={e.endpointId}
                data-endpoint-id={e.endpointId}
                class={selected?.endpointId === e.endpointId ? "selected" : "clickable"}
                onClick={() => setChosen(e.endpointId)}
              >
                <td>
                  <StatusBadge status={e.status} />
                </td>
                <td class="name">
                  {e.endpointName} <span class="hint">#{e.endpointId}</span>
                </td>
                <td>
                  <code class="url">{e.inferenceUrl}</code>
                </td>
                <td class="num">
                  {readyReplicas(e)} / {e.desiredReplicas}
                </td>
                <td class="num">{e.requestCount}</td>
                <td class="num">{e.errorCount}</td>
                <td>{formatTime(e.createdTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected && (
        <div class="card stack" data-testid="endpoint-detail">
          <h2>
            {selected.endpointName} <StatusBadge status={selected.status} />
          </h2>
          <p class="hint">
            From a shell:{" "}
            <code>
              curl -H "Authorization: Bearer $FEDML_API_KEY" -d '{"{...}"}' {selected.inferenceUrl}PATH
            </code>
          </p>
          <ReplicasTable endpoint={selected} />
          <RequestBox key={selected.endpointId} endpoint={selected} />
        </div>
      )}
    </section>
  );
}
