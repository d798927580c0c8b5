import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cachedWorkspace, prepareWorkspace } from "../src/runner/workspace.js";

const root = mkdtempSync(join(tmpdir(), "fedml-ws-"));
after(() => rmSync(root, { recursive: true, force: true }));

function makeArchive(): { file: string; sha: string } {
  const src = join(root, "src");
  mkdirSync(join(src, "sub"), { recursive: true });
  writeFileSync(join(src, "train.py"), "print('hi')\n");
  writeFileSync(join(src, "sub", "data.txt"), "42\n");
  const file = join(root, "ws.tar.gz");
  execFileSync("tar", ["czf", file, "-C", src, "."]);
  return { file, sha: createHash("sha256").update(readFileSync(file)).digest("hex") };
}

describe("workspace cache", () => {
  test("downloads once for concurrent runs, verifies the sha256, extracts into the run folder", async () => {
    const { file, sha } = makeArchive();
    const home = join(root, "home");
    let downloads = 0;
    const download = async (_sha: string) => {
      downloads++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return createReadStream(file);
    };
    const [a, b] = await Promise.all([cachedWorkspace(home, sha, download), cachedWorkspace(home, sha, download)]);
    assert.equal(a, b);
    assert.equal(downloads, 1);
    assert.deepEqual(readdirSync(join(home, "cache")), [`${sha}.tar.gz`]);
    const cwd = await prepareWorkspace(home, join(home, "runs", "r1"), sha, download);
    assert.equal(downloads, 1);
    assert.equal(readFileSync(join(cwd, "sub", "data.txt"), "utf8"), "42\n");
  });

  test("a corrupted download is refused and not cached", async () => {
    const home = join(root, "home2");
    const sha = "0".repeat(64);
    await assert.rejects(
      cachedWorkspace(home, sha, async () => Readable.from([Buffer.from("garbage")])),
      /workspace 0{64} arrived corrupted/,
    );
    assert.equal(existsSync(join(home, "cache", `${sha}.tar.gz`)), false);
  });
});

test("the first run unpacks as it downloads; bytes that do not hash to the sha256 leave neither folder nor cache", async () => {
  const { file } = makeArchive();
  const home = join(root, "home4");
  const wrongSha = "f".repeat(64);
  const runFolder = join(home, "runs", "r");
  await assert.rejects(
    prepareWorkspace(home, runFolder, wrongSha, async () => createReadStream(file)),
    /workspace f{64} arrived corrupted/,
  );
  assert.equal(existsSync(join(runFolder, "workspace")), false);
  assert.deepEqual(readdirSync(join(home, "cache")), []);
});

test("a download cut midway fails the run's workspace and leaves nothing behind", async () => {
  const { file, sha } = makeArchive();
  const home = join(root, "home5");
  const bytes = readFileSync(file);
  const cut = async () =>
    Readable.from(
      (async function* () {
        yield bytes.subarray(0, 20);
        throw new Error("connection reset");
      })(),
    );
  const runFolder = join(home, "runs", "r");
  await assert.rejects(prepareWorkspace(home, runFolder, sha, cut), /connection reset/);
  assert.deepEqual(readdirSync(runFolder), []);
  assert.deepEqual(readdirSync(join(home, "cache")), []);
  // The next run downloads again and gets it whole.
  const cwd = await prepareWorkspace(home, runFolder, sha, async () => createReadStream(file));
  assert.equal(readFileSync(join(cwd, "train.py"), "utf8"), "print('hi')\n");
});

test("no workspace: an empty folder", async () => {
  const cwd = await prepareWorkspace(join(root, "home3"), join(root, "home3", "runs", "r"), null, async () =>
    assert.fail("no download"),
  );
  assert.deepEqual(readdirSync(cwd), []);
});

test("a workspace id that is not a sha256 is refused", async () => {
  await assert.rejects(
    cachedWorkspace(root, "../../etc", async () => assert.fail("no download")),
    /is not a sha256/,
  );
});
