import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import {
  blobHasUsers,
  blobsByLastUse,
  deleteBlobIfUnused,
  liveWorkspaces,
  removeBlobUser,
  staleUploads,
  storedWorkspaceBytes,
  userBlobsByLastUse,
  userWorkspaceBytes,
} from "../store/workspace-blobs.js";
import type { BlobStore } from "./blob-store.js";
import { type WorkspaceLimits, megabytes, quotaExceeded } from "./limits.js";

const PAGE = 1000;

/**
 * Makes room for `incoming` more bytes from `userId`: first within the user's own quota
 * (dropping the user's least recently used blobs that none of its queued or running runs
 * needs), then within the whole store (least recently used first, never a blob a live run
 * needs). Refuses with QUOTA_EXCEEDED when that is not enough.
 */
export async function makeRoom(
  db: Kysely<Database>,
  blobs: BlobStore,
  limits: WorkspaceLimits,
  userId: number,
  incoming: number,
  keep: string,
): Promise<void> {
  await fitUser(db, blobs, limits, userId, incoming, keep);
  const freed = await evictLeastRecentlyUsed(db, blobs, limits.workspaceStoreBytes - incoming, keep);
  // Evicted bytes outside the database go now; a store that fails here is retried by the sweep.
  await blobs.collect(db).catch(() => 0);
  if (!freed) {
    throw quotaExceeded(
      `the server's workspace store is full (${megabytes(limits.workspaceStoreBytes)}, held by queued and running runs' workspaces); try again when runs end`,
      507,
    );
  }
}

async function fitUser(
  db: Kysely<Database>,
  blobs: BlobStore,
  limits: WorkspaceLimits,
  userId: number,
  incoming: number,
  keep: string,
) {
  let used = await userWorkspaceBytes(db, userId);
  if (used + incoming <= limits.userWorkspaceBytes) return;
  const live = await liveWorkspaces(db, userId);
  const anyoneLive = await liveWorkspaces(db);
  for (const blob of await userBlobsByLastUse(db, userId, PAGE)) {
    if (used + incoming <= limits.userWorkspaceBytes) return;
    if (live.has(blob.sha256) || blob.sha256 === keep) continue;
    await removeBlobUser(db, blob.sha256, userId);
    used -= blob.size;
    // Nobody left who may use it and no run waiting for it: its bytes go too.
    if (!anyoneLive.has(blob.sha256) && !(await blobHasUsers(db, blob.sha256)))
      await deleteBlobIfUnused(db, blob, blobs.drop.bind(blobs));
  }
  used = await userWorkspaceBytes(db, userId);
  if (used + incoming > limits.userWorkspaceBytes) {
    throw quotaExceeded(
      `workspace storage quota reached: your workspaces hold ${megabytes(used)} of ${megabytes(limits.userWorkspaceBytes)} and this one needs ${megabytes(incoming)} more (the rest belong to queued or running runs)`,
      413,
    );
  }
}

/**
 * Deletes least recently used blobs until the store holds at most `target` bytes, skipping
 * blobs a queued or running run needs. Answers whether it got there.
 */
export async function evictLeastRecentlyUsed(
  db: Kysely<Database>,
  blobs: BlobStore,
  target: number,
  keep = "",
): Promise<boolean> {
  let held = await storedWorkspaceBytes(db);
  if (held <= target) return true;
  const live = await liveWorkspaces(db);
  for (const blob of await blobsByLastUse(db, PAGE)) {
    if (held <= target) return true;
    if (live.has(blob.sha256) || blob.sha256 === keep) continue;
    if (await deleteBlobIfUnused(db, blob, blobs.drop.bind(blobs))) held -= blob.size;
  }
  return (await storedWorkspaceBytes(db)) <= target;
}

/** Uploads abandoned for `maxAgeMs` are dropped (their bytes count against the store). */
export async function dropStaleUploads(db: Kysely<Database>, blobs: BlobStore, now: number, maxAgeMs: number): Promise<number> {
  const stale = await staleUploads(db, now - maxAgeMs, PAGE);
  for (const upload of stale) {
    // A published blob's content keeps its upload id; only an unpublished upload is dropped.
    const published = await db
      .selectFrom("workspace_blobs")
      .select("sha256")
      .where("upload_id", "=", upload.id)
      .executeTakeFirst();
    if (!published) await blobs.drop(db, upload.id);
  }
  return stale.length;
}
