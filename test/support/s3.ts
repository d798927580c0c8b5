/**
 * A real S3-protocol server on loopback for the S3 workspace store's tests: s3rver (the
 * maintained fork, which checks SigV4 signatures, so a wrong secret is refused as a real
 * store refuses it), in this process, with its own key pair and bucket.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import S3rver from "@20minutes/s3rver";
import { Secret, type S3Settings } from "../../packages/server/src/workspaces/s3-settings.js";
// Its account registry: a key pair of our own, so the secret is one no log could hold by chance.
import AWSAccount from "@20minutes/s3rver/lib/models/account.js";

export interface S3Store {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secret: string;
  /** `fedml-server` flags for this store, the secret in a file beside it (never in argv). */
  serverArgs(secret?: string): string[];
  /** Keys of the objects under `prefix` in the bucket (what the store holds now). */
  objectKeys(prefix?: string): string[];
  /** The file s3rver keeps an object's bytes in (to damage it as a failing disk would). */
  objectFile(key: string): string;
  /** The server's settings for this store. */
  settings(): S3Settings;
  /** Gives the key id a new secret, as an operator rotating keys would: servers still using the old one are refused. */
  rotateSecret(): void;
  stop(): Promise<void>;
}

export async function startS3(dir: string): Promise<S3Store> {
  const bucket = "fedml-workspaces";
  const accessKeyId = `AKTEST${randomBytes(6).toString("hex").toUpperCase()}`;
  const secret = randomBytes(24).toString("base64url");
  const account = new AWSAccount(Date.now(), "fedml-test");
  account.createKeyPair(accessKeyId, secret);
  const directory = join(dir, "s3-data");
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  let files = 0;
  return {
    endpoint,
    bucket,
    accessKeyId,
    secret,
    serverArgs: (useSecret = secret) => {
      const file = join(dir, `s3-secret-${files++}`);
      writeFileSync(file, `${useSecret}\n`, { mode: 0o600 });
      return [
        "--s3-endpoint",
        endpoint,
        "--s3-bucket",
        bucket,
        "--s3-path-style",
        "true",
        "--s3-access-key-id",
        accessKeyId,
        "--s3-secret-access-key-file",
        file,
      ];
    },
    rotateSecret: () => account.createKeyPair(accessKeyId, randomBytes(24).toString("base64url")),
    objectFile: (key) => join(directory, bucket, `${key}._S3rver_object`),
    settings: () => ({
      endpoint,
      bucket,
      region: "us-east-1",
      prefix: "workspaces/",
      pathStyle: true,
      accessKeyId,
      secretAccessKey: new Secret(secret),
    }),
    objectKeys: (prefix = "workspaces/") => listObjects(join(directory, bucket)).filter((k) => k.startsWith(prefix)),
    stop: async () => {
      await server.close();
    },
  };
}

/** s3rver keeps an object as `<key>._S3rver_object` files under the bucket's folder. */
function listObjects(root: string, under = ""): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, under));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const rel = under ? `${under}/${name}` : name;
    if (statSync(join(root, rel)).isDirectory()) return listObjects(root, rel);
    return rel.endsWith("._S3rver_object") ? [rel.slice(0, -"._S3rver_object".length)] : [];
  });
}
