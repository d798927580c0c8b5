import { createHash } from "node:crypto";
import type { BlobRow } from "../store/workspace-blobs.js";
import { type BlobStore, CorruptBlob, type Db } from "./blob-store.js";
import { workspaceTooLarge } from "./limits.js";

export interface Comparison {
  /** The bytes sent are exactly the stored ones. */
  same: boolean;
  /** What the sent bytes hash to, and how many there were. */
  sha256: string;
  size: number;
  /** The stored copy failed its own checks, or differs from bytes that do hash to its name. */
  storedDamaged: boolean;
}

/**
 * Compares bytes a user sends for a blob the server already holds with the stored copy, byte
 * for byte, one stored chunk in memory at a time. A matching sha256 alone is not enough before
 * a second user is granted the blob: the stored bytes may have changed since they were
 * uploaded, and that user would be handed bytes other than the ones it proved it has.
 */
export async function compareWithBlob(
  db: Db,
  blobs: BlobStore,
  blob: Pick<BlobRow, "sha256" | "upload_id" | "size">,
  sent: AsyncIterable<Buffer>,
  maxBytes: number,
): Promise<Comparison> {
  const sentHash = createHash("sha256");
  const stored = blobs.read(db, blob.upload_id, blob.size)[Symbol.asyncIterator]();
  let storedDamaged = false;
  let storedDone = false;
  let held: Buffer = Buffer.alloc(0);
  let same = true;
  let size = 0;
  /** At least `bytes` stored bytes in `held`, or all that is left. */
  const fill = async (bytes: number) => {
    while (held.length < bytes && !storedDone && !storedDamaged) {
      try {
        const next = await stored.next();
        if (next.done) storedDone = true;
        else {
          held = held.length === 0 ? next.value : Buffer.concat([held, next.value]);
        }
      } catch (err) {
        if (!(err instanceof CorruptBlob)) throw err;
        storedDamaged = true;
      }
    }
  };
  for await (const piece of sent) {
    size += piece.length;
    if (size > maxBytes) throw workspaceTooLarge(maxBytes);
    sentHash.update(piece);
    if (!same) continue;
    await fill(piece.length);
    if (held.length < piece.length || !held.subarray(0, piece.length).equals(piece)) same = false;
    else held = held.subarray(piece.length);
  }
  if (same) {
    await fill(1);
    if (held.length > 0 || storedDamaged) same = false;
  }
  const sha256 = sentHash.digest("hex");
  if (!same && sha256 === blob.sha256 && size === blob.size) storedDamaged = true;
  return { same, sha256, size, storedDamaged };
}
