/**
 * The control plane's Prometheus metrics: one registry per server (tests run several in one
 * process), fleet figures read from the database on each scrape, HTTP latency observed per route.
 */
import type { ParsePoolCounts } from "@fedml/core";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { FleetSnapshot } from "./fleet-snapshot.js";

type Total = "placements" | "gpuHours" | "logLines";

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly runs = this.gauge("fedml_runs", "Runs by status", ["status"]);
  private readonly queueLength = this.gauge("fedml_queue_length", "Runs waiting for devices (QUEUED or CLUSTER_QUEUE)");
  private readonly oldestWait = this.gauge(
    "fedml_queue_oldest_wait_seconds",
    "How long the longest-waiting queued run has waited",
  );
  private readonly placements = new Counter({
    name: "fedml_placements_total",
    help: "Runs that got their devices (rate() of it: placements per second)",
    registers: [this.registry],
  });
  private readonly devicesOnline = this.gauge("fedml_devices_online", "Devices online (not OFFLINE)");
  private readonly devices = this.gauge("fedml_devices", "Devices by status", ["status"]);
  private readonly gpuHours = new Counter({
    name: "fedml_gpu_hours_total",
    help: "GPU-hours held by runs so far (running runs count up to now)",
    registers: [this.registry],
  });
  private readonly logLines = new Counter({
    name: "fedml_log_lines_ingested_total",
    help: "Job log lines stored",
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: "fedml_queue_wait_seconds",
    help: "From launch to getting devices, for runs placed since this server started",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: "fedml_http_request_duration_seconds",
    help: "HTTP request latency by method, route and status code",
    labelNames: ["method", "route", "status_code"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
    registers: [this.registry],
  });
  private readonly inferenceRequests = new Counter({
    name: "fedml_endpoint_requests_total",
    help: "Inference requests per endpoint, counted by this server process",
    labelNames: ["endpoint"],
    registers: [this.registry],
  });
  private readonly inferenceErrors = new Counter({
    name: "fedml_endpoint_errors_total",
    help: "Inference requests per endpoint that no replica answered (no ready replica, none reachable)",
    labelNames: ["endpoint"],
    registers: [this.registry],
  });
  private readonly inferenceDuration = new Histogram({
    name: "fedml_endpoint_request_duration_seconds",
    help: "Inference request latency per endpoint, through the proxy, to the end of the answer",
    labelNames: ["endpoint"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 120],
    registers: [this.registry],
  });
  private readonly counted: Record<Total, number> = { placements: 0, gpuHours: 0, logLines: 0 };
  /** Runs placed after this (epoch ms) have not been observed in queueWait yet. */
  placedAfter: number;

  constructor(startedAt: number) {
    this.placedAfter = startedAt;
    collectDefaultMetrics({ register: this.registry, prefix: "fedml_server_" });
  }

  private gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** Exposes the store's running count of SQL statements (what a unit of work costs the database). */
  countStatements(statements: () => number): void {
    new Counter({
      name: "fedml_db_statements_total",
      help: "SQL statements this server process has run (transaction control included)",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(statements());
      },
    });
  }

  /** Exposes what the job YAML parse pool has done: how launches were read, and workers started. */
  countYamlReads(stats: () => ParsePoolCounts): void {
    new Counter({
      name: "fedml_job_yaml_reads_total",
      help: "Job YAML documents read for launches, by how: a worker thread, another launch's read under way, or the cache",
      labelNames: ["how"],
      registers: [this.registry],
      collect() {
        const now = stats();
        this.reset();
        this.inc({ how: "worker" }, now.readByWorkers);
        this.inc({ how: "shared" }, now.shared);
        this.inc({ how: "cache" }, now.fromCache);
      },
    });
    new Counter({
      name: "fedml_job_yaml_workers_started_total",
      help: "Job YAML parser threads started (one is replaced after a document overruns its deadline)",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(stats().workersStarted);
      },
    });
  }

  /** One HTTP request answered, by its route's template. */
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  /** One inference request through the proxy (serving's InferenceObserver). */
  observeInference(endpointId: number, seconds: number, ok: boolean): void {
    const labels = { endpoint: String(endpointId) };
    this.inferenceRequests.inc(labels);
    if (!ok) this.inferenceErrors.inc(labels);
    this.inferenceDuration.observe(labels, seconds);
  }

  /** Sets the fleet figures from a fresh snapshot; totals only ever grow. */
  applySnapshot(snapshot: FleetSnapshot): void {
    this.runs.reset();
    for (const [status, n] of snapshot.runsByStatus) this.runs.set({ status }, n);
    this.queueLength.set(snapshot.queueLength);
    this.oldestWait.set(snapshot.oldestQueuedSeconds);
    this.devicesOnline.set(snapshot.devicesOnline);
    this.devices.reset();
    for (const [status, n] of snapshot.devicesByStatus) this.devices.set({ status }, n);
    this.raise("placements", this.placements, snapshot.placements);
    this.raise("gpuHours", this.gpuHours, snapshot.gpuHours);
    this.raise("logLines", this.logLines, snapshot.logLines);
    for (const wait of snapshot.newlyPlaced) this.queueWait.observe(wait.waitSeconds);
    this.placedAfter = Math.max(this.placedAfter, ...snapshot.newlyPlaced.map((w) => w.placedAt));
  }

  /** Counters may not go down: a total that shrank (a run deleted) is held, not decreased. */
  private raise(key: Total, counter: Counter, total: number): void {
    const delta = total - this.counted[key];
    if (delta > 0) {
      counter.inc(delta);
      this.counted[key] = total;
    }
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
