import { FedmlError, ResultCode } from "@fedml/core";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import { type BlobRow, findUsableBlob, isSha256, touchBlob } from "../store/workspace-blobs.js";

/** The one answer for "absent" and "not yours", so that a hash tells nobody what another user holds. */
export function workspaceNotFound(sha256: string): FedmlError {
  return new FedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace ${sha256} is not on this server`, 404);
}

/**
 * The blob if `userId` may use it (it uploaded the bytes or owns a run of them), marked as
 * used now so eviction leaves it for last; else undefined.
 */
export async function useWorkspace(
  db: Kysely<Database>,
  sha256: string,
  userId: number,
  now: number,
): Promise<BlobRow | undefined> {
  if (!isSha256(sha256)) return undefined;
  const blob = await findUsableBlob(db, sha256, userId);
  if (!blob) return undefined;
  // Evicted between the two statements: as good as absent.
  return (await touchBlob(db, sha256, userId, now)) ? blob : undefined;
}
