// The files operators deploy with: the Dockerfiles are linted and checked for what we promise
// (multi-stage, a non-root runtime, paths that exist), the systemd units verified by
// systemd-analyze, the compose file parsed and cross-checked, the example config read by the
// server's own parser, and the agent image's entrypoint run for real against a server.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { DockerfileParser } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { parse as parseYaml } from "yaml";
import { parseConfigFile } from "../packages/server/src/server-cli.js";
import { agentBin, repoRoot } from "./support/paths.js";
import { startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("deploy");
after(() => tmp.cleanup());
const deploy = join(repoRoot, "deploy");
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

interface Stage {
  from: string;
  instructions: { keyword: string; args: string }[];
}

function stagesOf(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const keyword = instruction.getKeyword();
    const args = instruction.getArgumentsContent() ?? "";
    if (keyword === "FROM") stages.push({ from: args, instructions: [] });
    else stages[stages.length - 1]?.instructions.push({ keyword, args });
  }
  return stages;
}

describe("Dockerfiles", () => {
  for (const [name, entry] of [
    ["server", "packages/server/bin/fedml-server.js"],
    ["agent", "/usr/local/bin/fedml-agent-entrypoint"],
  ] as const) {
    test(`${name}: lints clean, multi-stage, runs as a non-root user, copies what exists`, () => {
      const text = read(`deploy/docker/${name}.Dockerfile`);
      assert.deepEqual(
        validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`),
        [],
      );
      const stages = stagesOf(text);
      assert.ok(stages.length >= 2, "multi-stage");
      assert.match(stages[0].from, / AS build$/);
      const runtime = stages[stages.length - 1];
      const users = runtime.instructions.filter((i) => i.keyword === "USER").map((i) => i.args);
      assert.deepEqual(users, ["fedml"], "the runtime stage runs as fedml");
      assert.ok(!runtime.instructions.some((i) => i.keyword === "COPY" && i.args === ". ."), "no sources in the runtime image");
      const entrypoint = runtime.instructions.find((i) => i.keyword === "ENTRYPOINT");
      assert.ok(entrypoint?.args.includes(entry), entrypoint?.args);
      // Every path copied from the build stage is one the build makes or the repository holds.
      for (const copy of runtime.instructions.filter((i) => i.keyword === "COPY")) {
        const [source] = copy.args.replace(/--from=\S+\s+/, "").split(/\s+/);
        const path = source.replace(/^\/src\//, "");
        assert.ok(existsSync(join(repoRoot, path)), `${name}.Dockerfile copies ${path}, which does not exist`);
      }
    });
  }

  test("the build context leaves out what is built or installed here", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const entry of ["**/node_modules", "**/dist", ".git"]) assert.ok(ignored.includes(entry), entry);
  });
});

describe("systemd units", () => {
  const analyze = spawnSync("systemd-analyze", ["--version"]).status === 0;
  test("systemd-analyze verify accepts both units", { skip: analyze ? false : "systemd-analyze is not installed" }, () => {
    // verify reads a unit's name from its file name; copies keep the repository clean of its side files.
    const units = ["fedml-server.service", "fedml-agent.service"].map((unit) => {
      copyFileSync(join(deploy, "systemd", unit), join(tmp.dir, unit));
      return join(tmp.dir, unit);
    });
    const result = spawnSync("systemd-analyze", ["verify", ...units], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), "");
    for (const unit of units) {
      const text = readFileSync(unit, "utf8");
      assert.match(text, /^User=fedml$/m);
      assert.match(text, /^Restart=on-failure$/m);
    }
  });
});

describe("compose file", () => {
  test("server + PostgreSQL + one agent, wired to each other", () => {
    const compose = parseYaml(read("deploy/compose.yaml")) as {
      services: Record<string, Record<string, unknown>>;
      volumes: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(compose.services).sort(), ["agent", "postgres", "server"]);
    const { postgres, server, agent } = compose.services as Record<string, Record<string, never>>;
    const pgEnv = postgres.environment as Record<string, string>;
    const serverEnv = server.environment as Record<string, string>;
    assert.equal(
      serverEnv.FEDML_DATABASE_URL,
      `postgres://${pgEnv.POSTGRES_USER}:${pgEnv.POSTGRES_PASSWORD}@postgres:5432/${pgEnv.POSTGRES_DB}`,
    );
    assert.deepEqual(server.depends_on, { postgres: { condition: "service_healthy" } });
    assert.deepEqual(agent.depends_on, { server: { condition: "service_healthy" } });
    for (const service of [server, agent]) {
      const build = service.build as { context: string; dockerfile: string };
      assert.ok(existsSync(join(deploy, build.context, build.dockerfile)), build.dockerfile);
    }
    const agentEnv = agent.environment as Record<string, string>;
    assert.equal(agentEnv.FEDML_SERVER_URL, `http://server:${serverEnv.FEDML_SERVER_PORT}`);
    // The agent reads the admin key from the server's volume, mounted read-only.
    const serverVolume = (server.volumes as string[])[0].split(":");
    const mounted = (agent.volumes as string[]).find((v) => v.startsWith(`${serverVolume[0]}:`))?.split(":");
    assert.ok(mounted, "the agent mounts the server's volume");
    assert.equal(mounted[2], "ro");
    assert.ok(agentEnv.FEDML_API_KEY_FILE.startsWith(`${mounted[1]}/`));
    for (const name of Object.keys(compose.volumes)) assert.ok(name in compose.volumes);
  });
});

describe("operator config", () => {
  test("the example config file is one the server accepts", () => {
    const parsed = parseConfigFile("deploy/server.example.json", read("deploy/server.example.json"));
    assert.equal(parsed.port, 8732);
  });

  test("the agent image's entrypoint binds with a key file on first start, then runs the daemon", async () => {
    const syntax = spawnSync("sh", ["-n", join(deploy, "docker/agent-entrypoint.sh")], { encoding: "utf8" });
    assert.equal(syntax.status, 0, syntax.stderr);
    const server = await startServer(join(tmp.dir, "server-home"));
    const child = spawn("sh", [join(deploy, "docker/agent-entrypoint.sh"), "--name", "entrypoint-agent"], {
      env: {
        ...process.env,
        FEDML_HOME: join(tmp.dir, "agent-home"),
        FEDML_SERVER_URL: server.url,
        FEDML_API_KEY: "",
        FEDML_API_KEY_FILE: join(server.home, "server", "admin-key"),
        FEDML_AGENT_BIN: agentBin,
      },
      stdio: "ignore",
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await waitFor("the entrypoint's agent online", async () => {
        const res = await fetch(`${server.url}/api/v1/devices`, { headers: { authorization: `Bearer ${server.adminKey}` } });
        const body = (await res.json()) as { deviceList: { name: string; status: string }[] };
        return body.deviceList.some((d) => d.name === "entrypoint-agent" && d.status !== "OFFLINE");
      });
      // The server lists the device as soon as bind registers it, a moment before bind writes
      // its file: wait for the file rather than expect it at that instant.
      await waitFor("the binding persisted in FEDML_HOME/agent", () =>
        existsSync(join(tmp.dir, "agent-home", "agent", "agent.json")),
      );
    } finally {
      child.kill("SIGTERM");
      await exited;
      await server.stop();
    }
  });
});
