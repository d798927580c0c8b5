import { Type } from "@sinclair/typebox";

/** Typebox schemas of packages/core marketplace.ts. */
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const MatchedOfferSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  gpuVendor: Type.String(),
  gpuType: Type.String(),
  gpuName: Type.String(),
  totalGpuCount: Type.Integer(),
  gotGpuCount: Type.Integer(),
  gpuMem: Type.Number(),
  gpuRegion: Type.String(),
  gpuProvider: Type.String(),
  cpuCount: Type.Integer(),
  cost: Type.Number(),
  simulated: Type.Boolean(),
  shared: Type.Boolean(),
});

export const DryRunResponseSchema = Type.Object({
  resultCode: Type.Integer(),
  resultMsg: Type.String(),
  offers: Type.Array(MatchedOfferSchema),
  placement: Type.Array(
    Type.Object({ deviceId: Type.String(), gpuIndices: Type.Array(Type.Integer()), pricePerGpuHour: Type.Number() }),
  ),
  pricePerHour: Type.Number(),
});

export const CreditGrantRequestSchema = Type.Object({ amount: Type.Number({ exclusiveMinimum: 0, maximum: 1e9 }) });
export const UserNameParams = Type.Object({ name: Type.String({ pattern: "^[a-zA-Z0-9_.-]{1,64}$" }) });

export const CreditResponseSchema = Type.Object({
  userName: Type.String(),
  balance: Type.Number(),
  cardBound: Type.Boolean(),
  ledger: Type.Array(
    Type.Object({
      amount: Type.Number(),
      kind: Type.String(),
      runId: Nullable(Type.String()),
      deviceId: Nullable(Type.String()),
      note: Type.String(),
      createdTime: Type.Number(),
    }),
  ),
});

const CostLineSchema = Type.Object({ key: Type.String(), cost: Type.Number(), runs: Type.Integer(), gpuHours: Type.Number() });
export const CostReportSchema = Type.Object({
  total: Type.Number(),
  byProject: Type.Array(CostLineSchema),
  byProvider: Type.Array(CostLineSchema),
});
