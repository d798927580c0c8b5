import { inspect } from "node:util";

/** A credential: it prints as [hidden] everywhere (logs, errors, JSON), and only `reveal` gives it. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[hidden]";
  }
  toJSON(): string {
    return "[hidden]";
  }
  [inspect.custom](): string {
    return "[hidden]";
  }
}

/** An S3-compatible bucket for workspace bytes (AWS S3, MinIO, Ceph RGW, Garage, R2, ...). */
export interface S3Settings {
  /** http(s)://host:port; omitted: AWS S3 in `region`. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** Prepended to every object key, so one bucket can hold more than this. */
  prefix: string;
  /** Address objects as endpoint/bucket/key (MinIO, Ceph and most self-hosted stores) instead of bucket.endpoint/key. */
  pathStyle: boolean;
  /** Both omitted: the AWS SDK's usual chain (AWS_* environment, ~/.aws, instance role). */
  accessKeyId?: string;
  secretAccessKey?: Secret;
}

/** Names the bucket for messages: never a credential. */
export function describeBucket(s: S3Settings): string {
  return `S3 bucket ${s.bucket} at ${s.endpoint ?? `AWS ${s.region}`}`;
}

/** The S3 store refused the configured credentials or bucket, or could not be reached, at start. */
export class S3StoreError extends Error {}
