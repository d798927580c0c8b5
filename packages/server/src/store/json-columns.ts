/**
 * Every JSON column, read through a checked decode: a row written by another version or
 * edited by hand fails loudly, naming the column, instead of flowing on as a wrong type.
 */
import { type Static, Type } from "@sinclair/typebox";
import { ClusterNodeSchema, JobSpecSchema, jsonDecoder, Nullable } from "@fedml/core";
import type { JobNeeds } from "../scheduler/job-needs.js";

export const decodeJobSpec = jsonDecoder(JobSpecSchema, "runs.spec_json");

/** What capacity and the device views read of a stored GPU (older rows may lack the rest). */
export const decodeGpus = jsonDecoder(
  Type.Array(
    Type.Object({
      index: Type.Integer(),
      name: Type.String(),
      memoryMiB: Type.Number(),
      uuid: Type.Optional(Type.String()),
      utilization: Type.Optional(Type.Number()),
      memoryUsedMiB: Type.Optional(Type.Number()),
      busyElsewhere: Type.Optional(Type.Boolean()),
    }),
  ),
  "devices.gpus_json",
);

export const decodeClusterNodes = jsonDecoder(Type.Array(ClusterNodeSchema), "devices.cluster_nodes_json");

export const decodeGpuIndices = jsonDecoder(Type.Array(Type.Integer()), "run_devices.gpu_indices_json");

const StoredJobNeedsSchema = Type.Object({
  minimumNumGpus: Type.Number(),
  resourceType: Nullable(Type.String()),
  deviceType: Type.String(),
  maximumCostPerHour: Type.Number(),
  resourceId: Nullable(Type.String()),
  requesterId: Type.Optional(Nullable(Type.String())),
  allowCrossProvider: Type.Optional(Type.Boolean()),
});
// Fails to compile when JobNeeds gains a required field this schema does not check.
const storedNeedsAreNeeds = (n: Static<typeof StoredJobNeedsSchema>): JobNeeds => n;
void storedNeedsAreNeeds;

export const decodeJobNeeds = jsonDecoder(StoredJobNeedsSchema, "clusters.needs_json");
