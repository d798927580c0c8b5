import type { FastifyPluginAsync } from "fastify";
import { SERVER_VERSION } from "../version.js";
import { HealthSchema } from "./schemas.js";

export function healthRoutes(startedAt: number): FastifyPluginAsync {
  return async (app) => {
    app.get("/health", { schema: { tags: ["server"], response: { 200: HealthSchema } } }, async () => ({
      ok: true as const,
      version: SERVER_VERSION,
      uptime: Math.round((Date.now() - startedAt) / 1000),
    }));
  };
}
