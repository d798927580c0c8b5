import { type DeleteEndpointResponse, type EndpointListResponse, type EndpointModel, Paths } from "@fedml/core";
import { request } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export type { DeleteEndpointResponse, EndpointListResponse, EndpointModel };

/**
 * Ours: your live serving endpoints (serve / deploy jobs). Each one's `endpointId` is the
 * `innerId` its launch returned.
 *
 * @returns `{ endpointList: EndpointModel[] }`.
 */
export async function endpointList(options: ApiOptions = {}): Promise<EndpointListResponse> {
  return request<EndpointListResponse>("GET", Paths.endpoints, await resolveEndpoint(options));
}

/**
 * Ours: one endpoint: DEPLOYING until its job answers the readiness probe, READY, then
 * REMOVED (stopped or deleted) or FAILED (its run failed).
 *
 * @throws FedmlError 25 when you have no endpoint with that id.
 */
export async function endpointStatus(endpointId: string, options: ApiOptions = {}): Promise<EndpointModel> {
  return request<EndpointModel>("GET", Paths.endpoint(endpointId), await resolveEndpoint(options));
}

/**
 * Ours: stops the endpoint's run and removes the endpoint (the proxy stops forwarding at once).
 *
 * @throws FedmlError 25 when you have no endpoint with that id.
 */
export async function endpointDelete(endpointId: string, options: ApiOptions = {}): Promise<DeleteEndpointResponse> {
  return request<DeleteEndpointResponse>("DELETE", Paths.endpoint(endpointId), await resolveEndpoint(options));
}
