import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { ServerContext } from "../context.js";
import { toUserModel } from "../api/users.js";
import { ownedRun } from "../runs/lookup.js";
import type { UserRow } from "../store/users.js";
import { sessionTokenOf } from "./session-cookie.js";
import { userOfSession } from "./sessions.js";

const APP_ROOT = '<div id="app"></div>';

/**
 * The page with the signed-in user (or null) written in, as data the app reads at start: the
 * first render needs no round trip to learn who is signed in. `<` is escaped so no text in it
 * can close the element.
 */
export function withSessionUser(index: string, user: UserRow | undefined): string {
  const json = JSON.stringify(user ? toUserModel(user) : null).replace(/</g, "\\u003c");
  return index.replace(APP_ROOT, `<script id="fedml-session" type="application/json">${json}</script>${APP_ROOT}`);
}

/** Where `npm run build` puts the dashboard (packages/dashboard's Vite build). */
export const WEB_DIR = fileURLToPath(new URL("../../web/", import.meta.url));

/**
 * The dashboard's client routes: each answers the app's index.html, which routes in the
 * browser. `/` opens the runs page. A page added to the dashboard is added here too.
 */
export const DASHBOARD_PAGES = ["runs", "devices", "clusters", "endpoints", "cost", "admin"] as const;

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json; charset=utf-8",
};

// Nothing but our own files: no inline script, no other origin, not framed.
const HTML_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

const NOT_BUILT = `<!doctype html><html><head><meta charset="utf-8"><title>FedML Launch</title></head><body><h1>FedML Launch</h1><p>The dashboard has not been built: run <code>npm run build</code> in the clone. The API works without it; see <code>fedml run status</code> and <code>fedml run logs</code>.</p></body></html>`;

function readIndex(dir: string): string {
  try {
    return readFileSync(join(dir, "index.html"), "utf8");
  } catch {
    return NOT_BUILT;
  }
}

/** Serves the built dashboard from this process: no second server, nothing fetched from elsewhere. */
export function webRoutes(ctx: ServerContext, dir = WEB_DIR): FastifyPluginAsync {
  return async (app) => {
    const index = readIndex(dir);
    const assets = new Map<string, Buffer>();
    const sessionUser = async (request: FastifyRequest) => {
      const token = sessionTokenOf(request.headers);
      return token ? userOfSession(ctx, token) : undefined;
    };
    const page = (reply: FastifyReply, user: UserRow | undefined, status = 200) =>
      reply.status(status).headers(HTML_HEADERS).type("text/html; charset=utf-8").send(withSessionUser(index, user));
    const anyPage = async (request: FastifyRequest, reply: FastifyReply) => page(reply, await sessionUser(request));

    app.get("/", { schema: { hide: true } }, anyPage);
    for (const name of DASHBOARD_PAGES) {
      app.get(`/${name}`, { schema: { hide: true } }, anyPage);
      app.get(`/${name}/*`, { schema: { hide: true } }, anyPage);
    }

    // runUrl's target. A signed-in user asking for a run that is not theirs (or none) gets the
    // page with 404, as the API answers; signed out, the page shows the sign-in form first.
    app.get<{ Params: { id: string } }>("/runs/:id", { schema: { hide: true } }, async (request, reply) => {
      const user = await sessionUser(request);
      if (user) {
        const found = await ownedRun(ctx, user.id, request.params.id).then(
          () => true,
          () => false,
        );
        if (!found) return page(reply, user, 404);
      }
      return page(reply, user);
    });

    app.get<{ Params: { file: string } }>("/assets/:file", { schema: { hide: true } }, async (request, reply) => {
      const { file } = request.params;
      const type = CONTENT_TYPES[extname(file)];
      if (!/^[A-Za-z0-9_.-]+$/.test(file) || file.startsWith(".") || !type) return reply.callNotFound();
      let body = assets.get(file);
      if (!body) {
        body = await readFile(join(dir, "assets", file)).catch(() => undefined);
        if (!body) return reply.callNotFound();
        assets.set(file, body);
      }
      // Vite names each file by its content's hash: a name never changes meaning.
      return reply
        .header("cache-control", "public, max-age=31536000, immutable")
        .header("x-content-type-options", "nosniff")
        .type(type)
        .send(body);
    });
  };
}
