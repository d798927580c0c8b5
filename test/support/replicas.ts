/**
 * Several control-plane processes (replicas) on one PostgreSQL database, and nginx in front
 * of them with the configuration docs/replicas.md documents.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { databaseUrlFor } from "../../packages/server/test/support/database.js";
import { repoRoot } from "./paths.js";
import { type ServerProcess, freePort, startServer } from "./processes.js";
import { waitFor } from "./wait.js";

export interface Replicas {
  servers: ServerProcess[];
  databaseUrl: string;
  adminKey: string;
  /** Every replica's URL, comma-separated: what clients and agents are given. */
  urlList(first?: number): string;
  /** Starts replica i again (same home, port and database) after a stop or crash. */
  restart(i: number): Promise<ServerProcess>;
  stop(): Promise<void>;
}

/** `count` replicas under `dir`, on the database made for the first one's home. */
export async function startReplicas(dir: string, count: number, extraArgs: string[] = []): Promise<Replicas> {
  const homes = Array.from({ length: count }, (_, i) => join(dir, `replica-${i}`));
  const databaseUrl = await databaseUrlFor(homes[0]);
  if (!databaseUrl) throw new Error("replicas need PostgreSQL (FEDML_TEST_DATABASE_URL)");
  const args = ["--database-url", databaseUrl, ...extraArgs];
  // The first creates the schema and the admin; the others join the database it made.
  const first = await startServer(homes[0], { extraArgs: args });
  const rest = await Promise.all(homes.slice(1).map((home) => startServer(home, { extraArgs: args })));
  const servers = [first, ...rest];
  const replicas: Replicas = {
    servers,
    databaseUrl,
    adminKey: first.adminKey,
    urlList: (start = 0) => servers.map((_, i) => servers[(start + i) % servers.length].url).join(","),
    restart: async (i) => {
      const old = servers[i];
      servers[i] = await startServer(old.home, { port: old.port, extraArgs: args });
      return servers[i];
    },
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
  return replicas;
}

/** Debian's nginx: on the PATH, else where the package puts it (root's PATH has /usr/sbin). */
function nginxBin(): string {
  return spawnSync("nginx", ["-v"], { stdio: "ignore" }).status === 0 ? "nginx" : "/usr/sbin/nginx";
}

/** Whether Debian's nginx is installed (the tests that need it are skipped otherwise). */
export function nginxInstalled(): boolean {
  return spawnSync(nginxBin(), ["-v"], { stdio: "ignore" }).status === 0;
}

/**
 * The documented nginx configuration (the ```nginx block of docs/replicas.md) with its
 * upstream servers and listen address replaced by loopback ones.
 */
export function nginxConfigFor(upstreams: string[], listenPort: number): string {
  const doc = readFileSync(join(repoRoot, "docs", "replicas.md"), "utf8");
  const block = doc.match(/```nginx\n([\s\S]*?)```/)?.[1];
  if (!block) throw new Error("docs/replicas.md has no ```nginx block");
  const servers = block.match(/^( *)server \S+:\d+( [^;]*);$/gm) ?? [];
  if (servers.length === 0) throw new Error("the documented nginx block lists no upstream server");
  const first = servers[0] ?? "";
  const indent = first.match(/^ */)?.[0] ?? "";
  const options = first.replace(/^ *server \S+/, "").replace(/;$/, "");
  let config = block.replace(first, upstreams.map((u) => `${indent}server ${u}${options};`).join("\n"));
  for (const other of servers.slice(1)) config = config.replace(`${other}\n`, "");
  return config.replace(/listen \d+;/, `listen 127.0.0.1:${listenPort};`);
}

export interface Nginx {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** nginx in the foreground with a generated config under `dir`, in front of `upstreams` (host:port). */
export async function startNginx(dir: string, upstreams: string[]): Promise<Nginx> {
  mkdirSync(join(dir, "logs"), { recursive: true });
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  const temp = (name: string) => `${name} ${join(dir, name)};`;
  writeFileSync(
    conf,
    `daemon off;
${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "logs", "error.log")} warn;
events { worker_connections 1024; }
http {
    access_log ${join(dir, "logs", "access.log")};
    ${temp("client_body_temp_path")}
    ${temp("proxy_temp_path")}
    ${temp("fastcgi_temp_path")}
    ${temp("uwsgi_temp_path")}
    ${temp("scgi_temp_path")}
${nginxConfigFor(upstreams, port)}
}
`,
  );
  const check = spawnSync(nginxBin(), ["-t", "-p", dir, "-c", conf], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`nginx -t: ${check.stderr}`);
  const child = spawn(nginxBin(), ["-p", dir, "-c", conf], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`nginx on ${url}`, async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    return (await fetch(`${url}/api/v1/health`)).ok;
  });
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGQUIT");
      await exited;
    },
  };
}
