import { type LaunchResult, ResultCode, RunStatus } from "@fedml/core";
import type { PlacedNode } from "./matcher.js";

/**
 * What a launch does, decided once (runs/launch.ts) for every kind of run, plain, on a
 * cluster or federated, and carried out by one apply step.
 */
export type LaunchDecision =
  /** Nothing is stored; answered with `code`. */
  | { kind: "refuse"; code: number; reason: string }
  /** Stored waiting: QUEUED, or CLUSTER_QUEUE on a cluster. */
  | { kind: "queue"; reason: string; clusterId: number | null }
  /** Stored and assigned at once. `createCluster`: the cluster this launch creates by name. */
  | {
      kind: "place";
      nodes: readonly PlacedNode[];
      firstRank: number;
      clusterId: number | null;
      createCluster?: string;
    };

export const verdictCodes = {
  queued: ResultCode.RESOURCE_MATCHED_STATUS_QUEUED,
  no_resources: ResultCode.RESOURCE_MATCHED_STATUS_NO_RESOURCES,
  blocked: ResultCode.RESOURCE_MATCHED_STATUS_BLOCKED,
} as const;

export const creditCodes = {
  bind_card: ResultCode.RESOURCE_MATCHED_STATUS_BIND_CREDIT_CARD_FIRST,
  balance: ResultCode.USER_BALANCE_NOT_ENOUGH,
} as const;

export const refuse = (code: number, reason: string): LaunchDecision => ({ kind: "refuse", code, reason });

/** The status a run waits in: CLUSTER_QUEUE on a cluster, else QUEUED. */
export const waitingStatus = (clusterId: number | null) => (clusterId === null ? RunStatus.QUEUED : RunStatus.CLUSTER_QUEUE);

/** A refused launch, thrown so that its transaction rolls back whatever deciding it wrote. */
export class Refusal extends Error {
  constructor(readonly result: LaunchResult) {
    super(result.resultMsg);
  }
}
