import { randomUUID } from "node:crypto";

/**
 * Job packages the official client uploads over S3 before it registers them. The S3 settings
 * are handed out unauthenticated (configs/fetch), so what lands here belongs to nobody until
 * updateApplicationFromCli claims it with an API key: each object is bounded in size, the
 * whole store in bytes, and an unclaimed object lives only a short while. Held in this
 * process's memory: a claim must reach the replica that took the upload.
 */
export interface WireObjectLimits {
  maxObjectBytes: number;
  maxTotalBytes: number;
  ttlMs: number;
}

export const DEFAULT_WIRE_OBJECT_LIMITS: WireObjectLimits = {
  maxObjectBytes: 256 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  ttlMs: 30 * 60 * 1000,
};

interface Held {
  bytes: Buffer;
  storedAt: number;
}

interface Multipart {
  key: string;
  parts: Map<number, Buffer>;
  bytes: number;
  startedAt: number;
}

export class WireObjects {
  private readonly objects = new Map<string, Held>();
  private readonly multiparts = new Map<string, Multipart>();
  private total = 0;

  constructor(
    readonly limits: WireObjectLimits,
    private readonly now: () => number,
  ) {}

  /** Stores an object; answers a reason when it does not fit. */
  put(key: string, bytes: Buffer): string | null {
    this.expire();
    if (bytes.length > this.limits.maxObjectBytes) return `object is larger than ${this.limits.maxObjectBytes} bytes`;
    this.drop(key);
    if (this.total + bytes.length > this.limits.maxTotalBytes) return "the server holds too many unclaimed uploads: retry later";
    this.objects.set(key, { bytes, storedAt: this.now() });
    this.total += bytes.length;
    return null;
  }

  get(key: string): Buffer | undefined {
    this.expire();
    return this.objects.get(key)?.bytes;
  }

  /** Hands the object to its claimant and forgets it. */
  take(key: string): Buffer | undefined {
    const bytes = this.get(key);
    this.drop(key);
    return bytes;
  }

  /** Begins a multipart upload of `key`; answers its upload id. */
  startMultipart(key: string): string {
    this.expire();
    const id = randomUUID();
    this.multiparts.set(id, { key, parts: new Map(), bytes: 0, startedAt: this.now() });
    return id;
  }

  /** Stores one part (a part sent again replaces the earlier one); answers a reason when refused. */
  putPart(uploadId: string, partNumber: number, bytes: Buffer): string | null {
    this.expire();
    const upload = this.multiparts.get(uploadId);
    if (!upload) return "no such upload (expired or never begun)";
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) return "partNumber must be 1 to 10000";
    const old = upload.parts.get(partNumber)?.length ?? 0;
    if (upload.bytes - old + bytes.length > this.limits.maxObjectBytes)
      return `object is larger than ${this.limits.maxObjectBytes} bytes`;
    if (this.total - old + bytes.length > this.limits.maxTotalBytes)
      return "the server holds too many unclaimed uploads: retry later";
    upload.parts.set(partNumber, bytes);
    upload.bytes += bytes.length - old;
    this.total += bytes.length - old;
    return null;
  }

  /** Joins the listed parts, in order, into the object; answers its key, or a reason when refused. */
  completeMultipart(uploadId: string, partNumbers: number[]): { key: string } | { refused: string } {
    this.expire();
    const upload = this.multiparts.get(uploadId);
    if (!upload) return { refused: "no such upload (expired or never begun)" };
    const missing = partNumbers.find((n) => !upload.parts.has(n));
    if (partNumbers.length === 0 || missing !== undefined) return { refused: `part ${missing ?? "list"} was not uploaded` };
    const sorted = [...new Set(partNumbers)].sort((a, b) => a - b);
    const bytes = Buffer.concat(sorted.map((n) => upload.parts.get(n) as Buffer));
    this.abortMultipart(uploadId);
    const refused = this.put(upload.key, bytes);
    return refused ? { refused } : { key: upload.key };
  }

  abortMultipart(uploadId: string): void {
    const upload = this.multiparts.get(uploadId);
    if (!upload) return;
    this.multiparts.delete(uploadId);
    this.total -= upload.bytes;
  }

  private drop(key: string): void {
    const held = this.objects.get(key);
    if (!held) return;
    this.objects.delete(key);
    this.total -= held.bytes.length;
  }

  private expire(): void {
    const cutoff = this.now() - this.limits.ttlMs;
    for (const [key, held] of this.objects) if (held.storedAt < cutoff) this.drop(key);
    for (const [id, upload] of this.multiparts) if (upload.startedAt < cutoff) this.abortMultipart(id);
  }
}
