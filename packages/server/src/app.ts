import { join } from "node:path";
import { networkInterfaces } from "node:os";
import { mkdirSync } from "node:fs";
import swagger from "@fastify/swagger";
import { API_PREFIX, ParsePool } from "@fedml/core";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { agentRoutes } from "./api/agent.js";
import { clusterRoutes } from "./api/clusters.js";
import { agentServingRoutes } from "./api/agent-serving.js";
import { acceptAgentTunnels } from "./api/agent-tunnel.js";
import { endpointRoutes } from "./api/endpoints.js";
import { assignmentsListener } from "./api/assignments-front.js";
import { type RequestListener, firstOf, frontServerFactory } from "./api/front-server.js";
import { inferenceListener } from "./api/inference.js";
import { AssignmentPolls } from "./devices/assignment-polls.js";
import { deviceRoutes } from "./api/devices.js";
import { frameworkErrorOptions, installErrorHandlers } from "./api/errors.js";
import { installInputGuards } from "./api/input-guard.js";
import { declareRequestIdentity } from "./auth/guard.js";
import { healthRoutes } from "./api/health.js";
import { installRequestLog, observabilityRoutes, requestIdOptions } from "./api/observability.js";
import { marketplaceRoutes } from "./api/marketplace.js";
import { offerRoutes } from "./api/offers.js";
import { runDetailRoutes } from "./api/run-details.js";
import { runLogRoutes } from "./api/run-logs.js";
import { runRoutes } from "./api/runs.js";
import { spendRoutes } from "./api/spend.js";
import { userRoutes } from "./api/users.js";
import { workspaceRoutes } from "./api/workspaces.js";
import { sessionRoutes } from "./dashboard/session-routes.js";
import { webRoutes } from "./dashboard/web-routes.js";
import { ensureAdmin } from "./auth/bootstrap-admin.js";
import { fedmlWireRoutes } from "./fedml-wire/routes.js";
import { type ServerOptions, isPostgresUrl, resolveOptions, serverDir } from "./config.js";
import type { ServerContext } from "./context.js";
import { sweepIdleClusters } from "./clusters/idle-sweep.js";
import { ServerLiveness } from "./devices/liveness.js";
import { Heartbeats } from "./devices/heartbeats.js";
import { sweepOfflineDevices } from "./devices/offline-sweep.js";
import { ServerMetrics } from "./metrics/server-metrics.js";
import { endUnacknowledgedStops } from "./runs/stop-deadline.js";
import { outOfBalanceGuard } from "./billing/balance-guard.js";
import { reconcileReservations } from "./billing/reservations.js";
import { NotifyHub, schedulerTopic } from "./notify.js";
import { startPostgresWake } from "./notify-postgres.js";
import { Placement } from "./scheduler/placement.js";
import { DeviceTokens } from "./auth/device-tokens.js";
import { KeyCache } from "./auth/key-cache.js";
import { QueueLoop } from "./scheduler/queue-loop.js";
import { type SweepLeader, postgresSweepLeader, soleSweepLeader } from "./sweep-leader.js";
import { WriteFaults } from "./store/write-faults.js";
import { reconcileServing } from "./serving/controller.js";
import { ReplicaLoad } from "./serving/replica-load.js";
import { TunnelHub } from "./serving/tunnel-hub.js";
import { peerUrlOf } from "./serving/peer-url.js";
import { TunnelPeers } from "./serving/tunnel-peers.js";
import { type Store, openPostgres, openSqlite } from "./store/db.js";
import { migrateToLatest } from "./store/migrations.js";
import { storageSweep } from "./storage/sweep.js";
import type { BlobStore } from "./workspaces/blob-store.js";
import { importDiskBlobs } from "./workspaces/import-disk.js";
import { openBlobStore } from "./workspaces/open-blob-store.js";
import { SERVER_VERSION } from "./version.js";
import { LoopDelay } from "./loop-delay.js";

export interface RunningServer {
  app: FastifyInstance;
  /** The URL it listens on (http://host:port). */
  url: string;
  port: number;
  /** The URL users and agents are told to use. */
  publicUrl: string;
  /** The admin key file written on first start, else null. */
  adminKeyFile: string | null;
  /** Its store: on SQLite nothing else may open the file while the server holds it. */
  store: Store;
  close(): Promise<void>;
}

function openStore(home: string, databaseUrl: string | undefined, sqliteAccess: "exclusive" | "shared"): Store {
  if (isPostgresUrl(databaseUrl)) return openPostgres(databaseUrl);
  return openSqlite(join(serverDir(home), "fedml.db"), { lock: true, exclusive: sqliteAccess === "exclusive" });
}

function urlOf(host: string, port: number): string {
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}

/** Opens the store, wires the API and background ticks, and listens. */
export async function buildServer(options: ServerOptions): Promise<RunningServer> {
  const opts = resolveOptions(options);
  const dir = serverDir(opts.home);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const store = openStore(opts.home, opts.databaseUrl, opts.sqliteAccess);
  const clock = opts.clock;
  const startedAt = clock.wall();
  // A stall shorter than a third of the offline timeout still leaves agents two polls to be heard.
  // A server whose event loop is on average this late is too busy to read every poll in time
  // (liveness.ts): a hundredth of the offline window, so the delay alone cannot eat into it.
  const liveness = new ServerLiveness(
    clock,
    Math.max(250, Math.floor(opts.offlineAfterMs / 3)),
    Math.max(200, Math.floor(opts.offlineAfterMs / 100)),
  );
  let publicUrl = opts.publicUrl ?? "";
  let tick: NodeJS.Timeout | undefined;
  let queueLoop: QueueLoop | undefined;
  let watch: NodeJS.Timeout | undefined;
  let sweepLeader: SweepLeader = soleSweepLeader;
  const hub = new NotifyHub();
  const jobYaml = new ParsePool({ deadlineMs: opts.yamlParseTimeoutMs });
  jobYaml.warm();
  const tunnels = new TunnelHub();
  let blobs: BlobStore | undefined;
  try {
    await migrateToLatest(store.db, store.dialect);
    blobs = await openBlobStore(opts.s3);
    const adminKeyFile = await ensureAdmin(store.db, dir, clock.wall());

    const metrics = new ServerMetrics(startedAt);
    metrics.countStatements(store.statements);
    metrics.countYamlReads(() => jobYaml.stats());
    // Set once the context exists: the inference proxy is served ahead of fastify (api/inference.ts).
    let front: RequestListener | undefined;
    const app = Fastify({
      serverFactory: frontServerFactory(() => front),
      logger: { level: opts.logLevel },
      ...requestIdOptions(),
      // No per-request lines at info: agents long-poll continuously; installRequestLog logs them quieter.
      logController: new LogController({ disableRequestLogging: true }),
      forceCloseConnections: true,
      // Infinity (JSON's 1e400) is no number a column can hold.
      ajv: { customOptions: { strictNumbers: true } },
      ...frameworkErrorOptions,
    });
    const hooks = opts.testHooks;
    const db = hooks?.beforeWrite ? store.db.withPlugin(new WriteFaults(hooks.beforeWrite)) : store.db;
    const onlineTest = () => liveness.heardWithinTest(opts.offlineAfterMs);
    const now = () => clock.wall();
    const loop = new QueueLoop({
      pass: async () => {
        await hooks?.beforeQueuePass?.();
        return placement.placeQueuedUnlessBusy();
      },
      log: app.log,
      periodMs: opts.tickMs,
    });
    queueLoop = loop;
    // Placement.wake goes through the hub (after the commit inside a transition); the hub keeps
    // that topic in this process (notify.ts), since every replica's pass sees the whole queue.
    const placement = new Placement({ db, hub, log: app.log, onlineTest, now });
    hub.subscribe(schedulerTopic, () => loop.wake());
    const heartbeats = new Heartbeats({
      db,
      // Well inside the offline window, so a batch's wait never counts toward a device's silence.
      flushMs: Math.max(10, Math.min(200, Math.floor(opts.offlineAfterMs / 20))),
      onRevived: (deviceIds) => {
        for (const deviceId of deviceIds) app.log.info({ event: "device.online", deviceId }, "device back online");
        placement.wake({ hub });
      },
      onError: (err) => app.log.warn({ err }, "writing heartbeats failed: kept for the next batch"),
    });
    const ctx: ServerContext = {
      db,
      blobs,
      options: opts,
      hub,
      log: app.log,
      placement,
      jobYaml,
      tunnels,
      replicaLoad: new ReplicaLoad(),
      publicUrl: () => publicUrl,
      now,
      onlineTest,
      liveness,
      heartbeats,
      keys: new KeyCache({ db, hub, now }),
      deviceTokens: new DeviceTokens(db, hub),
    };

    await app.register(swagger, {
      openapi: {
        openapi: "3.0.3",
        info: { title: "FedML Launch control plane", version: SERVER_VERSION },
        components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
        security: [{ bearer: [] }],
      },
    });
    // The agents' assignments polls: through the route, or ahead of fastify when plain.
    const polls = new AssignmentPolls(ctx);
    declareRequestIdentity(app);
    installErrorHandlers(app);
    installRequestLog(app, metrics);
    installInputGuards(app);
    if (isPostgresUrl(opts.databaseUrl)) {
      hub.connect(
        await startPostgresWake({
          url: opts.databaseUrl,
          onTopic: (topic) => hub.deliver(topic),
          onGap: () => hub.deliverAll(),
          onError: (message, err) => app.log.warn({ err }, message),
        }),
      );
    }
    await app.register(
      async (api) => {
        await api.register(healthRoutes(startedAt));
        await api.register(userRoutes(ctx));
        await api.register(workspaceRoutes(ctx));
        await api.register(runRoutes(ctx));
        await api.register(marketplaceRoutes(ctx));
        await api.register(offerRoutes(ctx));
        await api.register(spendRoutes(ctx));
        await api.register(runLogRoutes(ctx));
        await api.register(deviceRoutes(ctx));
        await api.register(clusterRoutes(ctx));
        await api.register(agentRoutes(ctx, polls));
        await api.register(agentServingRoutes(ctx));
        await api.register(endpointRoutes(ctx));
        await api.register(sessionRoutes(ctx));
        await api.register(runDetailRoutes(ctx));
        api.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
      },
      { prefix: API_PREFIX },
    );
    await app.register(webRoutes(ctx));
    await app.register(observabilityRoutes(ctx, metrics));
    await app.register(fedmlWireRoutes(ctx));
    front = firstOf(assignmentsListener(ctx, polls, metrics), inferenceListener(ctx, metrics));
    acceptAgentTunnels(ctx, app.server);

    await importDiskBlobs(store.db, blobs, join(dir, "workspaces"), ctx.now, (msg, fields) => app.log.warn(fields, msg));

    // A fleet reconnecting at once (a server restart, a network blip) opens thousands of
    // connections together; Node's default accept backlog of 511 drops the rest, and their
    // SYN retries back off for up to a minute. The kernel caps it at net.core.somaxconn.
    await app.listen({ host: opts.host, port: opts.port ?? 0, backlog: 8192 });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : (opts.port ?? 0);
    const url = urlOf(opts.host, port);
    publicUrl = opts.publicUrl ?? url;
    // Other replicas hand inference requests for the tunnels held here to this URL.
    const peers = new TunnelPeers(ctx.db, peerUrlOf(opts.host, port, networkInterfaces(), opts.peerUrl), ctx.now, app.log);
    ctx.tunnelPeers = peers;
    tunnels.listener = peers;

    const sweepStorage = storageSweep(ctx, opts.storageSweepMs);
    const stopWhatIsOutOfBalance = outOfBalanceGuard(ctx);
    // The sweeps over shared state run on one replica at a time (sweep-leader.ts).
    if (isPostgresUrl(opts.databaseUrl)) {
      sweepLeader = postgresSweepLeader(opts.databaseUrl, (message, err) => app.log.warn({ err }, message));
    }
    const leader = sweepLeader;
    let ticking = false;
    tick = setInterval(async () => {
      if (ticking) return;
      ticking = true;
      try {
        if (await leader.leads()) {
          await sweepOfflineDevices(ctx);
          await endUnacknowledgedStops(ctx);
          await reconcileReservations(ctx);
          await stopWhatIsOutOfBalance();
          await sweepIdleClusters(ctx);
        }
        await sweepStorage();
        await reconcileServing(ctx);
      } catch (err) {
        app.log.error({ err }, "background tick failed");
      } finally {
        ticking = false;
      }
    }, opts.tickMs);
    tick.unref();
    const loopDelay = new LoopDelay(20);
    watch = setInterval(
      () => {
        const wasOverloaded = liveness.isOverloaded;
        const meanDelayMs = loopDelay.meanMs;
        loopDelay.reset();
        liveness.observe(meanDelayMs);
        if (liveness.isOverloaded && !wasOverloaded) {
          app.log.warn(
            { event: "server.overloaded", meanDelayMs: Math.round(meanDelayMs) },
            "server overloaded: no device is judged silent until it keeps up again for the offline window",
          );
        }
      },
      Math.max(50, Math.floor(opts.offlineAfterMs / 12)),
    );
    watch.unref();
    // Placement runs in its own loop, off the request path (scheduler/queue-loop.ts).
    loop.start();

    let closing: Promise<void> | undefined;
    return {
      app,
      url,
      port,
      publicUrl,
      adminKeyFile,
      store,
      close: () => {
        closing ??= (async () => {
          clearInterval(tick);
          clearInterval(watch);
          loopDelay.stop();
          await loop.stop();
          await sweepLeader.close();
          await hub.close();
          await heartbeats.close();
          // Upgraded connections are not the HTTP server's any more: app.close() would wait on them.
          tunnels.close();
          await app.close();
          await jobYaml.close();
          blobs?.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    clearInterval(tick);
    clearInterval(watch);
    await queueLoop?.stop();
    await sweepLeader.close();
    await hub.close();
    await jobYaml.close();
    blobs?.close();
    await store.close();
    throw err;
  }
}
