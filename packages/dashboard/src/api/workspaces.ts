import type { PutWorkspaceResponse } from "@fedml/core";
import { call } from "./client.js";

/** Uploads a packed workspace under its sha256 (the server checks the bytes against it). */
export const uploadWorkspace = (sha256: string, archive: Uint8Array) =>
  call<PutWorkspaceResponse>("PUT", `/workspaces/${sha256}`, { body: archive, headers: { "content-type": "application/gzip" } });
