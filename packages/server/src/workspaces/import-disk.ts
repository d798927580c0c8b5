import { createReadStream, existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import { addBlobUser, createUpload, findBlob, isSha256 } from "../store/workspace-blobs.js";
import type { BlobStore } from "./blob-store.js";
import { completeUpload, receiveBytes } from "./upload.js";

/**
 * Servers before the database store kept blobs as `<sha256>.tar.gz` files in one replica's
 * folder. Each is moved into the database once (the users of the runs that name it may use
 * it) and the file removed; a file whose bytes do not match its name is left where it is.
 */
export async function importDiskBlobs(
  db: Kysely<Database>,
  blobs: BlobStore,
  dir: string,
  now: () => number,
  log: (message: string, fields: Record<string, unknown>) => void,
): Promise<number> {
  if (!existsSync(dir)) return 0;
  let moved = 0;
  for (const name of readdirSync(dir)) {
    const sha256 = name.replace(/\.tar\.gz$/, "");
    if (!isSha256(sha256) || name === sha256) continue;
    const file = join(dir, name);
    try {
      if (!(await findBlob(db, sha256))) {
        const size = statSync(file).size;
        const upload = await createUpload(db, sha256, 0, size, now());
        await receiveBytes(db, blobs, upload, 0, createReadStream(file), Number.MAX_SAFE_INTEGER, now);
        await completeUpload(db, blobs, { ...upload, size }, now());
        await db.deleteFrom("workspace_blob_users").where("sha256", "=", sha256).where("user_id", "=", 0).execute();
      }
      const owners = await db.selectFrom("runs").select("owner_id").distinct().where("workspace_sha256", "=", sha256).execute();
      for (const o of owners) await addBlobUser(db, sha256, o.owner_id, now());
      rmSync(file, { force: true });
      moved += 1;
    } catch (err) {
      log("workspace file not moved into the database", { file, err: (err as Error).message });
    }
  }
  return moved;
}
