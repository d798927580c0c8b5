import type { Kysely, Migration } from "kysely";
import type { DialectName } from "./db.js";
import { idColumn } from "./id-column.js";

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
type AnyDb = Kysely<any>;

/**
 * Endpoints as services: replica bounds, the autoscaler's target, the readiness probe and the
 * rollout generation on `endpoints`; one `endpoint_replicas` row per run serving an endpoint.
 */
export function endpointReplicas(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      const add = (column: string, type: "integer" | "bigint" | "text", def?: number | string) =>
        db.schema
          .alterTable("endpoints")
          .addColumn(column, type, (c) => (def === undefined ? c : c.notNull().defaultTo(def)))
          .execute();
      await add("min_replicas", "integer", 1);
      await add("max_replicas", "integer", 1);
      await add("desired_replicas", "integer", 1);
      await add("target_inflight", "integer");
      await add("scale_down_delay_ms", "bigint", 60_000);
      await add("probe_path", "text", "/");
      await add("probe_interval_ms", "integer", 1_000);
      await add("generation", "integer", 1);
      await add("busy_at", "bigint");
      await idColumn(db.schema.createTable("endpoint_replicas"), dialect)
        .addColumn("endpoint_id", "integer", (c) => c.notNull().references("endpoints.id"))
        .addColumn("run_id", "integer", (c) => c.notNull().unique().references("runs.id"))
        .addColumn("generation", "integer", (c) => c.notNull())
        .addColumn("device_id", "integer")
        .addColumn("port", "integer")
        .addColumn("ready", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("ready_at", "bigint")
        .addColumn("retired_at", "bigint")
        .addColumn("ended_at", "bigint")
        .execute();
      await db.schema
        .createIndex("endpoint_replicas_endpoint")
        .on("endpoint_replicas")
        .columns(["endpoint_id", "ended_at"])
        .execute();
      // Endpoints made before replicas existed: their run is their one replica.
      await db
        .insertInto("endpoint_replicas")
        .columns(["endpoint_id", "run_id", "generation", "device_id", "port", "ready", "created_at", "ready_at", "ended_at"])
        .expression(
          db
            .selectFrom("endpoints")
            .select((eb) => [
              "id",
              "run_id",
              eb.val(1).as("generation"),
              "device_id",
              "port",
              eb.case().when("status", "=", "READY").then(1).else(0).end().as("ready"),
              "created_at",
              "ready_at",
              "ended_at",
            ]),
        )
        .execute();
    },
  };
}
