import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { EarningsReportSchema, MarketplacePaths, SpendByDayQuerySchema, SpendByDayResponseSchema } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { earningsReport, spendByDay } from "../reports/spend.js";
import { authErrors } from "./schemas.js";

const under = (path: string) => path.replace(/^\/api\/v1/, "");

/** Spending per day and providers' earnings: the ledger summed in the database. */
export function spendRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const preHandler = requireUser(ctx);
    app.get(
      under(MarketplacePaths.spendByDay),
      {
        preHandler,
        schema: {
          tags: ["credit"],
          querystring: SpendByDayQuerySchema,
          response: { 200: SpendByDayResponseSchema, ...authErrors },
        },
      },
      async (request) => spendByDay(ctx, userOf(request).id, request.query),
    );
    app.get(
      under(MarketplacePaths.earnings),
      { preHandler, schema: { tags: ["credit"], response: { 200: EarningsReportSchema, ...authErrors } } },
      async (request) => earningsReport(ctx, userOf(request).id),
    );
  };
}
