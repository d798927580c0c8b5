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

export class WireObjects {
  private readonly objects = new Map<string, Held>();
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

  private drop(key: string): void {
    const held = this.objects.get(key);
    if (!held) return;
    this.objects.delete(key);
    this.total -= held.bytes.length;
  }

  private expire(): void {
    const cutoff = this.now() - this.limits.ttlMs;
    for (const [key, held] of this.objects) if (held.storedAt < cutoff) this.drop(key);
  }
}
