// fedml-server's settings: --help, flags over environment over config file over defaults, a
// fixed default port, and one-line refusals of bad settings; then the real binary on them.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { after, describe, test } from "node:test";
import { DEFAULT_PORT, ServerCliError, parseServerCommand } from "../src/server-cli.js";
import { waitFor } from "../../../test/support/wait.js";
import { tempDir } from "./support/tmp.js";

const binPath = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const loaderArgs = process.execArgv.flatMap((arg, i, all) =>
  arg === "--import" ? [arg, all[i + 1]] : arg.startsWith("--import=") ? [arg] : [],
);
const tmp = tempDir("server-cli");
after(() => tmp.cleanup());

const noFile = (path: string): string => {
  throw new ServerCliError(`cannot read config file ${path}: ENOENT`);
};

function run(argv: string[], env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) {
  return parseServerCommand(argv, env, (path) => files[path] ?? noFile(path));
}

describe("fedml-server settings", () => {
  test("defaults: port 8732, home ~/.fedml or FEDML_HOME", () => {
    const cmd = run([], { FEDML_HOME: "/srv/fedml" });
    assert.equal(cmd.kind, "run");
    if (cmd.kind !== "run") return;
    assert.equal(DEFAULT_PORT, 8732);
    assert.equal(cmd.options.port, 8732);
    assert.equal(cmd.options.home, "/srv/fedml");
    assert.equal(cmd.portMode, "fixed");
  });

  test("a flag beats the environment, which beats the config file", () => {
    const files = {
      "/etc/fedml.json": JSON.stringify({ port: 9000, host: "0.0.0.0", logLevel: "warn", databaseUrl: "postgres://f/f" }),
    };
    const fromFile = run(["--config", "/etc/fedml.json"], {}, files);
    assert.ok(fromFile.kind === "run");
    assert.equal(fromFile.options.port, 9000);
    assert.equal(fromFile.options.host, "0.0.0.0");
    assert.equal(fromFile.options.databaseUrl, "postgres://f/f");
    const fromEnv = run([], { FEDML_SERVER_CONFIG: "/etc/fedml.json", FEDML_SERVER_PORT: "9001" }, files);
    assert.ok(fromEnv.kind === "run");
    assert.equal(fromEnv.options.port, 9001);
    assert.equal(fromEnv.options.logLevel, "warn");
    const fromFlag = run(["--port", "9002", "--config", "/etc/fedml.json"], { FEDML_SERVER_PORT: "9001" }, files);
    assert.ok(fromFlag.kind === "run");
    assert.equal(fromFlag.options.port, 9002);
  });

  test("--port auto keeps the embedded default's behaviour: the recorded port, else any", () => {
    const cmd = run(["--port", "auto"]);
    assert.ok(cmd.kind === "run");
    assert.equal(cmd.portMode, "auto");
    assert.equal(cmd.options.port, undefined);
  });

  test("bad settings are refused in one line naming the source", () => {
    assert.throws(() => run(["--port", "x"]), /--port must be a whole number, not "x"/);
    assert.throws(() => run([], { FEDML_SERVER_PORT: "-1" }), /FEDML_SERVER_PORT must be a whole number/);
    assert.throws(() => run(["--config", "/c.json"], {}, { "/c.json": '{"prot": 1}' }), /unknown key prot/);
    assert.throws(() => run(["--config", "/c.json"], {}, { "/c.json": "[1]" }), /must hold one JSON object/);
    assert.throws(() => run(["--config", "/c.json"], {}, { "/c.json": "{" }), /not valid JSON/);
    assert.throws(() => run(["--config", "/missing.json"]), /cannot read config file \/missing\.json/);
    assert.throws(() => run(["--bogus"]), /Unknown option '--bogus'.*fedml-server --help/);
  });

  test("an S3 store: a bucket turns it on; the secret comes from the environment or a file, never a flag, and never prints", () => {
    const cmd = run(["--s3-bucket", "ws", "--s3-endpoint", "http://minio:9000/", "--s3-path-style", "true"], {
      FEDML_S3_ACCESS_KEY_ID: "AKID",
      FEDML_S3_SECRET_ACCESS_KEY: "sekrit-from-env",
    });
    assert.ok(cmd.kind === "run" && cmd.options.s3);
    const s3 = cmd.options.s3;
    assert.deepEqual(
      { ...s3, secretAccessKey: s3.secretAccessKey?.reveal() },
      {
        bucket: "ws",
        endpoint: "http://minio:9000",
        region: "us-east-1",
        prefix: "workspaces/",
        pathStyle: true,
        accessKeyId: "AKID",
        secretAccessKey: "sekrit-from-env",
      },
    );
    assert.ok(!JSON.stringify(cmd).includes("sekrit") && !inspect(cmd, { depth: 9 }).includes("sekrit"));
    const fromFile = run(
      ["--config", "/c.json"],
      {},
      { "/c.json": '{"s3Bucket": "ws", "s3AccessKeyId": "AKID", "s3SecretAccessKeyFile": "/s"}', "/s": "from-file\n" },
    );
    assert.equal(fromFile.kind === "run" && fromFile.options.s3?.secretAccessKey?.reveal(), "from-file");
    const none = run([]);
    assert.equal(none.kind === "run" && none.options.s3, undefined);

    assert.throws(() => run(["--s3-secret-access-key", "x"]), /Unknown option '--s3-secret-access-key'/);
    assert.throws(() => run(["--s3-endpoint", "http://x:9000"]), /--s3-endpoint needs --s3-bucket/);
    assert.throws(() => run(["--s3-bucket", "b", "--s3-access-key-id", "A"]), /needs the secret access key/);
    assert.throws(() => run(["--s3-bucket", "b"], { FEDML_S3_SECRET_ACCESS_KEY: "x" }), /needs --s3-access-key-id/);
    assert.throws(() => run(["--s3-bucket", "b", "--s3-path-style", "yes"]), /--s3-path-style must be true or false/);
    assert.throws(() => run(["--s3-bucket", "b", "--s3-endpoint", "minio:9000"]), /must be http\(s\):\/\/host\[:port\]/);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe("the fedml-server binary", () => {
  test("--help exits 0 and documents every setting; --version", () => {
    const help = spawnSync(process.execPath, [...loaderArgs, binPath, "--help"], { encoding: "utf8" });
    assert.equal(help.status, 0, help.stderr);
    for (const word of ["--port", "FEDML_SERVER_PORT", "--config", "FEDML_DATABASE_URL", "8732", "/metrics", "/healthz"]) {
      assert.ok(help.stdout.includes(word), `help mentions ${word}`);
    }
    const version = spawnSync(process.execPath, [...loaderArgs, binPath, "--version"], { encoding: "utf8" });
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^fedml-server \d+\.\d+\.\d+\n$/);
    const bad = spawnSync(process.execPath, [...loaderArgs, binPath, "--port", "nope"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'fedml-server: --port must be a whole number, not "nope"\n');
  });

  test("starts on the config file's port; /healthz checks the database; x-request-id comes back", async () => {
    const port = await freePort();
    const home = join(tmp.dir, "home");
    const config = join(tmp.dir, "server.json");
    writeFileSync(config, JSON.stringify({ port, home, logLevel: "info" }));
    // The environment beats the config file: a FEDML_HOME (or any server setting) of whoever
    // runs the suite must not stand in for the file's.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("FEDML_")));
    const child = spawn(process.execPath, [...loaderArgs, binPath, "--config", config], {
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    let log = "";
    child.stdout.on("data", (d) => (log += d));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const deadline = Date.now() + 60_000;
      let health: Response | undefined;
      while (!health) {
        health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!health) {
          assert.ok(Date.now() < deadline, `server did not listen on ${port}: ${log}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal(health.status, 200);
      assert.deepEqual({ ...((await health.json()) as object), ms: 0 }, { ok: true, database: "ok", ms: 0 });
      assert.ok(existsSync(join(home, "server", "admin-key")), "the config file's home is used");
      const me = await fetch(`http://127.0.0.1:${port}/api/v1/me`, { headers: { "x-request-id": "trace-42" } });
      assert.equal(me.status, 401);
      assert.equal(me.headers.get("x-request-id"), "trace-42");
      const fresh = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
      assert.match(fresh.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
      // The server writes its request line after answering: wait for it (undefined if it never comes).
      const lineWithId = (id: string) =>
        waitFor(`the log line of request ${id}`, () => log.split("\n").find((l) => l.includes(`"reqId":"${id}"`)), 5_000).catch(
          () => undefined,
        );
      const line = await lineWithId("trace-42");
      assert.ok(line, `a request log line with the id:\n${log}`);
      assert.deepEqual((({ method, url, statusCode }) => ({ method, url, statusCode }))(JSON.parse(line)), {
        method: "GET",
        url: "/api/v1/me",
        statusCode: 401,
      });
      // A request served ahead of fastify (the inference proxy) with no id of its own: the id it
      // was answered with is the one its line carries.
      const proxied = await fetch(`http://127.0.0.1:${port}/inference/999999/predict`);
      assert.equal(proxied.status, 401);
      const proxiedId = proxied.headers.get("x-request-id") ?? "";
      assert.match(proxiedId, /^[0-9a-f-]{36}$/);
      const proxiedLine = await lineWithId(proxiedId);
      assert.ok(proxiedLine, `the proxied request's line carries its id ${proxiedId}:\n${log}`);
      assert.equal(JSON.parse(proxiedLine).route, "/inference/:id/*");
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    const record = JSON.parse(readFileSync(join(home, "server", "server.json"), "utf8")) as { port: number };
    assert.equal(record.port, port);
  });
});
