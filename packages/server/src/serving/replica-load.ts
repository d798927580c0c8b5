/**
 * Requests in flight and answered per replica, as this server process counts them at the
 * proxy: the load balancer picks by them, the autoscaler samples them, `endpoint status`
 * shows them. In memory: each server process counts its own share.
 */
export interface ReplicaCounts {
  inflight: number;
  requests: number;
  errors: number;
}

export class ReplicaLoad {
  private readonly replicas = new Map<number, ReplicaCounts>();
  private readonly endpoints = new Map<number, ReplicaCounts & { peak: number; arrivals: number }>();
  /** The last rate sample per endpoint: arrivals counted then, and when (monotonic ms). */
  private readonly rateSamples = new Map<number, { arrivals: number; at: number }>();

  private replica(runId: number): ReplicaCounts {
    let counts = this.replicas.get(runId);
    if (!counts) {
      counts = { inflight: 0, requests: 0, errors: 0 };
      this.replicas.set(runId, counts);
    }
    return counts;
  }

  private endpoint(endpointId: number): ReplicaCounts & { peak: number; arrivals: number } {
    let counts = this.endpoints.get(endpointId);
    if (!counts) {
      counts = { inflight: 0, requests: 0, errors: 0, peak: 0, arrivals: 0 };
      this.endpoints.set(endpointId, counts);
    }
    return counts;
  }

  /** A request to the endpoint begins (before a replica is known: a cold start counts too). */
  begin(endpointId: number): void {
    const e = this.endpoint(endpointId);
    e.inflight++;
    e.arrivals++;
    e.peak = Math.max(e.peak, e.inflight);
  }

  end(endpointId: number, ok: boolean): void {
    const e = this.endpoint(endpointId);
    e.inflight = Math.max(0, e.inflight - 1);
    e.requests++;
    if (!ok) e.errors++;
  }

  beginReplica(runId: number): void {
    this.replica(runId).inflight++;
  }

  endReplica(runId: number, ok: boolean): void {
    const r = this.replica(runId);
    r.inflight = Math.max(0, r.inflight - 1);
    r.requests++;
    if (!ok) r.errors++;
  }

  ofReplica(runId: number): ReplicaCounts {
    return { ...(this.replicas.get(runId) ?? { inflight: 0, requests: 0, errors: 0 }) };
  }

  ofEndpoint(endpointId: number): ReplicaCounts {
    const { inflight = 0, requests = 0, errors = 0 } = this.endpoints.get(endpointId) ?? {};
    return { inflight, requests, errors };
  }

  /** The most requests in flight at once since the last call (bursts between samples count). */
  takePeak(endpointId: number): number {
    const e = this.endpoints.get(endpointId);
    if (!e) return 0;
    const peak = e.peak;
    e.peak = e.inflight;
    return peak;
  }

  /**
   * Requests that arrived per second since the last call at `nowMs` (monotonic); the first
   * call only starts the count (answers 0). Arrivals, not answers: slow requests count at once.
   */
  takeRate(endpointId: number, nowMs: number): number {
    const arrivals = this.endpoints.get(endpointId)?.arrivals ?? 0;
    const last = this.rateSamples.get(endpointId);
    this.rateSamples.set(endpointId, { arrivals, at: nowMs });
    if (!last || nowMs <= last.at) return 0;
    return ((arrivals - last.arrivals) * 1000) / (nowMs - last.at);
  }
}
