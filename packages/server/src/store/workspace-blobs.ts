import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { FedmlError, ResultCode } from "@fedml/core";

const SHA256 = /^[0-9a-f]{64}$/;

export function isSha256(value: string): boolean {
  return SHA256.test(value);
}

/** Workspace tar.gz files on disk, named by their sha256. */
export class WorkspaceBlobs {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!isSha256(sha256)) {
      throw new FedmlError(
        ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
        `${sha256} is not a sha256 (64 lowercase hex digits)`,
        400,
      );
    }
    return join(this.dir, `${sha256}.tar.gz`);
  }

  has(sha256: string): boolean {
    return isSha256(sha256) && existsSync(this.pathOf(sha256));
  }

  sizeOf(sha256: string): number {
    return statSync(this.pathOf(sha256)).size;
  }

  open(sha256: string): Readable {
    return createReadStream(this.pathOf(sha256));
  }

  /**
   * Streams `body` to a temp file, hashing as it goes, and renames it into place only if
   * the hash is the one named: a reader never sees a partial or wrong blob.
   */
  async put(sha256: string, body: Readable, maxBytes = Number.POSITIVE_INFINITY): Promise<{ size: number; created: boolean }> {
    const target = this.pathOf(sha256);
    const temp = join(this.dir, `.${sha256}.${randomBytes(6).toString("hex")}.part`);
    const hash = createHash("sha256");
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) {
          done(
            new FedmlError(
              ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
              `workspace is larger than this server accepts (${maxBytes} bytes)`,
              413,
            ),
          );
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(temp, { mode: 0o600 }));
      const actual = hash.digest("hex");
      if (actual !== sha256) {
        throw new FedmlError(
          ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
          `workspace upload has sha256 ${actual}, not ${sha256} as named`,
          400,
        );
      }
      if (existsSync(target)) {
        rmSync(temp, { force: true });
        return { size, created: false };
      }
      renameSync(temp, target);
      return { size, created: true };
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }
}
