import type { BlobStore } from "./blob-store.js";
import { DatabaseBlobStore } from "./database-blob-store.js";
import type { S3Settings } from "./s3-settings.js";

/** The configured store; an S3 bucket is tried once first, so wrong settings stop the server at start. */
export async function openBlobStore(s3: S3Settings | undefined): Promise<BlobStore> {
  if (!s3) return new DatabaseBlobStore();
  // The AWS SDK takes a good part of a second to load: only servers that use it pay for it.
  const [{ makeS3Client, probeS3 }, { S3BlobStore }] = await Promise.all([
    import("./s3-client.js"),
    import("./s3-blob-store.js"),
  ]);
  const client = makeS3Client(s3);
  try {
    await probeS3(client, s3);
  } catch (err) {
    client.destroy();
    throw err;
  }
  return new S3BlobStore(client, s3);
}
