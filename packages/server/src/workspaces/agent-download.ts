import type { Readable } from "node:stream";
import type { ServerContext } from "../context.js";
import { liveRunOnDeviceWith } from "../store/runs.js";
import { findBlob, touchBlob } from "../store/workspace-blobs.js";
import { workspaceNotFound } from "./access.js";
import { openVerifiedBlob } from "./read.js";

/**
 * A workspace for a device: only one that a run assigned to the device and not ended names,
 * and only while its bytes are whole. Answers its size (for content-length) and a verified stream.
 */
export async function workspaceForDevice(
  ctx: ServerContext,
  deviceId: number,
  sha256: string,
  onCorrupt: (why: string) => void,
): Promise<{ size: number; stream: Readable }> {
  const assigned = await liveRunOnDeviceWith(ctx.db, deviceId, sha256);
  const blob = assigned ? await findBlob(ctx.db, sha256) : undefined;
  if (!blob || blob.corrupt) throw workspaceNotFound(sha256);
  await touchBlob(ctx.db, sha256, null, ctx.now());
  return { size: blob.size, stream: openVerifiedBlob(ctx.db, ctx.blobs, blob, onCorrupt) };
}
