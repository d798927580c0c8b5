import { FedmlError, ResultCode } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { type EndpointRow, findEndpoint } from "../store/endpoints.js";
import { parseRowId } from "../store/ids.js";

/** The caller's endpoint. Another user's endpoint answers exactly like an unknown one. */
export async function ownedEndpoint(ctx: ServerContext, ownerId: number, endpointId: string): Promise<EndpointRow> {
  const id = parseRowId(endpointId);
  const endpoint = id !== undefined ? await findEndpoint(ctx.db, id) : undefined;
  if (!endpoint || endpoint.owner_id !== ownerId) {
    throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `endpoint ${endpointId} not found`, 404);
  }
  return endpoint;
}
