import type { FastifyPluginAsync } from "fastify";

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/** runUrl's target until the dashboard exists: it names the run and the command to use. */
export const runPageRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { id: string } }>("/runs/:id", { schema: { hide: true } }, async (request, reply) => {
    const id = escapeHtml(request.params.id);
    reply.type("text/html; charset=utf-8");
    return `<!doctype html><html><head><meta charset="utf-8"><title>FedML run ${id}</title></head><body><h1>Run ${id}</h1><p>The web dashboard is not available yet. Use <code>fedml run status ${id}</code> and <code>fedml run logs ${id}</code>.</p></body></html>`;
  });
};
