import type { BlobStore } from "./blob-store.js";
import { DatabaseBlobStore } from "./database-blob-store.js";
import { S3BlobStore } from "./s3-blob-store.js";
import { makeS3Client, probeS3 } from "./s3-client.js";
import type { S3Settings } from "./s3-settings.js";

/** The configured store; an S3 bucket is tried once first, so wrong settings stop the server at start. */
export async function openBlobStore(s3: S3Settings | undefined): Promise<BlobStore> {
  if (!s3) return new DatabaseBlobStore();
  const client = makeS3Client(s3);
  try {
    await probeS3(client, s3);
  } catch (err) {
    client.destroy();
    throw err;
  }
  return new S3BlobStore(client, s3);
}
