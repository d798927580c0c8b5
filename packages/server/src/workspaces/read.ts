import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import { type BlobRow, markBlobCorrupt } from "../store/workspace-blobs.js";
import { type BlobStore, CorruptBlob } from "./blob-store.js";

/**
 * A blob as a stream for an agent: verified piece by piece (by the store) and as a whole. On
 * a mismatch the blob is marked corrupt (unusable until someone uploads the right bytes
 * again) and the stream fails, so the response is cut short of its content-length and the
 * bad bytes are never sent.
 */
export function openVerifiedBlob(
  db: Kysely<Database>,
  blobs: BlobStore,
  blob: BlobRow,
  onCorrupt: (why: string) => void,
): Readable {
  async function* verified(): AsyncGenerator<Buffer> {
    const whole = createHash("sha256");
    try {
      for await (const data of blobs.read(db, blob.upload_id, blob.size)) {
        whole.update(data);
        yield data;
      }
      const actual = whole.digest("hex");
      if (actual !== blob.sha256) throw new CorruptBlob(`hashes to ${actual}`);
    } catch (err) {
      if (err instanceof CorruptBlob) {
        await markBlobCorrupt(db, blob.sha256, blob.upload_id);
        onCorrupt(err.message);
      }
      throw err;
    }
  }
  return Readable.from(verified(), { objectMode: false });
}
