import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type CreditResponse, FedmlError, ResultCode, fromMicros, toMicros } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { requireAdmin, requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { costReport } from "../runs/cost-report.js";
import { dryRun } from "../runs/dry-run.js";
import { grantCredit, listLedger, readBalance } from "../store/credit.js";
import { inSnapshot } from "../store/transaction.js";
import { type UserRow, findUserByName } from "../store/users.js";
import {
  CostReportSchema,
  CreditGrantRequestSchema,
  CreditResponseSchema,
  DryRunResponseSchema,
  UserNameParams,
} from "./schemas.js";
import { ErrorBodySchema, LaunchRequestSchema, authErrors } from "./schemas.js";

async function creditOf(ctx: ServerContext, user: Pick<UserRow, "id" | "name">): Promise<CreditResponse> {
  // One snapshot: a charge committed between the two reads would show in the ledger and not the balance.
  const { standing, ledger } = await inSnapshot(ctx.db, async (trx) => ({
    standing: await readBalance(trx, user.id),
    ledger: await listLedger(trx, user.id, 50),
  }));
  return {
    userName: user.name,
    balance: fromMicros(standing.balanceMicros),
    cardBound: standing.cardBound,
    ledger: ledger.map((e) => ({
      amount: fromMicros(e.amount_micros),
      kind: e.kind,
      runId: e.run_id === null ? null : String(e.run_id),
      deviceId: e.device_id === null ? null : String(e.device_id),
      note: e.note,
      createdTime: e.created_at,
    })),
  };
}

/** A billion dollars: sums of grants stay exact integers of micro-dollars. */
const MAX_GRANT_MICROS = 1e15;

/** Dry runs, credit and cost reports (docs/marketplace.md). */
export function marketplaceRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      "/runs/dry-run",
      {
        preHandler: requireUser(ctx),
        schema: { tags: ["runs"], body: LaunchRequestSchema, response: { 200: DryRunResponseSchema, ...authErrors } },
      },
      async (request) => dryRun(ctx, userOf(request), request.body),
    );

    app.get(
      "/me/credit",
      { preHandler: requireUser(ctx), schema: { tags: ["credit"], response: { 200: CreditResponseSchema, ...authErrors } } },
      async (request) => creditOf(ctx, userOf(request)),
    );

    app.post(
      "/users/:name/credit",
      {
        preHandler: requireAdmin(ctx),
        schema: {
          tags: ["credit"],
          params: UserNameParams,
          body: CreditGrantRequestSchema,
          response: { ...authErrors, 200: CreditResponseSchema, 403: ErrorBodySchema, 404: ErrorBodySchema },
        },
      },
      async (request) => {
        const user = await findUserByName(ctx.db, request.params.name);
        if (!user)
          throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `user ${request.params.name} not found`, 404);
        const micros = toMicros(request.body.amount);
        if (!(micros > 0 && micros <= MAX_GRANT_MICROS)) {
          throw new FedmlError(
            ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
            `amount must be from $0.000001 to $1,000,000,000, not ${request.body.amount}`,
            400,
          );
        }
        await grantCredit(ctx.db, user.id, micros, `granted by ${userOf(request).name}`, ctx.now());
        // Runs waiting for credit may go now.
        ctx.placement.wake(ctx);
        return creditOf(ctx, user);
      },
    );

    app.get(
      "/costs",
      { preHandler: requireUser(ctx), schema: { tags: ["credit"], response: { 200: CostReportSchema, ...authErrors } } },
      async (request) => costReport(ctx, userOf(request).id),
    );
  };
}
