import { type EndpointModel, Paths } from "@fedml/core";
import type { EndpointRow } from "../store/endpoints.js";

export function toEndpointModel(row: EndpointRow, publicUrl: string): EndpointModel {
  return {
    endpointId: String(row.id),
    endpointName: row.name,
    runId: String(row.run_id),
    status: row.status,
    inferenceUrl: `${publicUrl}${Paths.inference(String(row.id))}`,
    modelName: row.model_name,
    modelVersion: row.model_version,
    deviceId: row.device_id === null ? null : String(row.device_id),
    createdTime: row.created_at,
    readyTime: row.ready_at,
  };
}
