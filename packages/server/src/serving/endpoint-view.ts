import { type EndpointModel, Paths } from "@fedml/core";
import type { ReplicaRow } from "../store/endpoint-replicas.js";
import type { EndpointRow } from "../store/endpoints.js";
import type { ReplicaLoad } from "./replica-load.js";
import { replicaStatus } from "./replica-status.js";

export function toEndpointModel(row: EndpointRow, publicUrl: string, replicas: ReplicaRow[], load: ReplicaLoad): EndpointModel {
  const counts = load.ofEndpoint(row.id);
  return {
    endpointId: String(row.id),
    endpointName: row.name,
    runId: String(row.run_id),
    status: row.status,
    inferenceUrl: `${publicUrl}${Paths.inference(String(row.id))}`,
    modelName: row.model_name,
    modelVersion: row.model_version,
    deviceId: row.device_id === null ? null : String(row.device_id),
    createdTime: Number(row.created_at),
    readyTime: row.ready_at === null ? null : Number(row.ready_at),
    minReplicas: row.min_replicas,
    maxReplicas: row.max_replicas,
    desiredReplicas: row.desired_replicas,
    generation: row.generation,
    requestCount: counts.requests,
    errorCount: counts.errors,
    inflightRequests: counts.inflight,
    replicas: replicas
      .filter((r) => r.endpoint_id === row.id)
      .map((r) => {
        const c = load.ofReplica(r.run_id);
        return {
          runId: String(r.run_id),
          deviceId: r.device_id === null ? null : String(r.device_id),
          status: replicaStatus(r),
          generation: r.generation,
          requestCount: c.requests,
          errorCount: c.errors,
          inflightRequests: c.inflight,
          readyTime: r.ready_at === null ? null : Number(r.ready_at),
          endedTime: r.ended_at === null ? null : Number(r.ended_at),
        };
      }),
  };
}
