import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { after, describe, test } from "node:test";
import { extract as tarExtract, Header } from "tar";
import { extractWorkspace, extractWorkspaceStream, FedmlError, ResultCode } from "../src/index.js";

const root = mkdtempSync(join(tmpdir(), "fedml-core-extract-"));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (name: string) => {
  const dir = join(root, `${++counter}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

interface RawEntry {
  path: string;
  type: "File" | "Directory" | "SymbolicLink" | "Link" | "CharacterDevice" | "BlockDevice" | "FIFO";
  body?: string;
  linkpath?: string;
  mode?: number;
}

/**
 * A tar.gz written header by header, so that it holds exactly what an attacker would put
 * in it (node-tar's own packer would never write these entries).
 */
function craftArchive(entries: RawEntry[]): string {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? "");
    const header = new Header({
      path: e.path,
      type: e.type,
      size: body.length,
      mode: e.mode ?? (e.type === "Directory" ? 0o755 : 0o644),
      mtime: new Date(0),
      linkpath: e.linkpath,
      uid: 0,
      gid: 0,
    });
    header.encode();
    assert.ok(header.block);
    blocks.push(header.block);
    if (body.length > 0) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const file = join(freshDir("archive"), "ws.tar.gz");
  writeFileSync(file, gzipSync(Buffer.concat(blocks)));
  return file;
}

const innocent: RawEntry = { path: "hello.py", type: "File", body: "print('hi')\n" };

describe("extractWorkspace", () => {
  test("extracts a well-formed archive", async () => {
    const file = craftArchive([
      { path: "src/", type: "Directory" },
      { path: "src/main.py", type: "File", body: "x = 1\n", mode: 0o755 },
      { path: "main", type: "SymbolicLink", linkpath: "src/main.py" },
      innocent,
    ]);
    const dest = join(freshDir("dest"), "ws");
    assert.deepEqual(await extractWorkspace(file, dest), { fileCount: 3 });
    assert.equal(readFileSync(join(dest, "main"), "utf8"), "x = 1\n");
    assert.equal(readFileSync(join(dest, "hello.py"), "utf8"), "print('hi')\n");
  });

  test("keeps folders' and files' modes, hard links inside the archive and the packer's fixed times", async () => {
    const file = craftArchive([
      { path: "bin/", type: "Directory", mode: 0o750 },
      { path: "bin/run.sh", type: "File", body: "#!/bin/sh\necho hi\n", mode: 0o755 },
      { path: "bin/also.sh", type: "Link", linkpath: "bin/run.sh" },
    ]);
    const dest = join(freshDir("dest"), "ws");
    assert.deepEqual(await extractWorkspace(file, dest), { fileCount: 2 });
    assert.equal(statSync(join(dest, "bin")).mode & 0o777, 0o750 & ~process.umask());
    const run = statSync(join(dest, "bin", "run.sh"));
    assert.equal(run.mode & 0o777, 0o755 & ~process.umask());
    assert.equal(run.mtimeMs, 0);
    assert.equal(statSync(join(dest, "bin", "also.sh")).ino, run.ino);
  });

  const attacks: [string, RawEntry, string][] = [
    [
      "an absolute path",
      { path: "/tmp/fedml-evil.txt", type: "File", body: "x" },
      "entry '/tmp/fedml-evil.txt' has an absolute path",
    ],
    ["a '..' path", { path: "sub/../../evil.txt", type: "File", body: "x" }, "entry 'sub/../../evil.txt' climbs out with '..'"],
    [
      "a symlink to an absolute path",
      { path: "etc", type: "SymbolicLink", linkpath: "/etc" },
      "entry 'etc' is a symlink to the absolute path '/etc'",
    ],
    [
      "a symlink out of the folder",
      { path: "a/up", type: "SymbolicLink", linkpath: "../../.." },
      "entry 'a/up' is a symlink that points outside the workspace ('../../..')",
    ],
    [
      "a hard link out of the folder",
      { path: "h", type: "Link", linkpath: "../outside.txt" },
      "entry 'h' is a hard link to '../outside.txt' outside the workspace",
    ],
    ["a character device", { path: "tty", type: "CharacterDevice" }, "entry 'tty' is a character device"],
    ["a block device", { path: "disk", type: "BlockDevice" }, "entry 'disk' is a block device"],
    ["a FIFO", { path: "pipe", type: "FIFO" }, "entry 'pipe' is a FIFO"],
  ];

  for (const [name, attack, message] of attacks) {
    test(`refuses the whole archive for ${name}`, async () => {
      const file = craftArchive([innocent, attack]);
      const dest = join(freshDir("dest"), "ws");
      await assert.rejects(extractWorkspace(file, dest), (err: unknown) => {
        assert.ok(err instanceof FedmlError);
        assert.equal(err.resultCode, ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR);
        assert.equal(err.message, `unsafe workspace archive: ${message}`);
        return true;
      });
      assert.equal(existsSync(dest), false, "nothing extracted, not even the innocent file");
    });
  }

  test("refuses writing through a symlink planted in the same archive", async () => {
    const outside = freshDir("outside");
    const file = craftArchive([
      { path: "link", type: "SymbolicLink", linkpath: "sub" },
      { path: "sub/", type: "Directory" },
      { path: "link/x.txt", type: "File", body: "x" },
    ]);
    const dest = join(freshDir("dest"), "ws");
    await assert.rejects(extractWorkspace(file, dest), /entry 'link\/x\.txt' lies under the symlink 'link'/);
    assert.deepEqual(readdirSync(outside), []);
  });

  test("node-tar alone would skip the bad entry and extract the rest (why we check first)", async () => {
    const file = craftArchive([innocent, { path: "sub/../../evil.txt", type: "File", body: "x" }]);
    const dest = freshDir("plain-tar");
    await tarExtract({ file, cwd: dest, onwarn: () => {} });
    assert.deepEqual(readdirSync(dest), ["hello.py"]);
  });

  test("a missing or corrupt archive -> 11", async () => {
    const missing = join(root, "nope.tar.gz");
    await assert.rejects(
      extractWorkspace(missing, freshDir("d")),
      (err: unknown) =>
        err instanceof FedmlError && err.resultCode === 11 && err.message === `workspace archive not found: ${missing}`,
    );
    const garbage = join(freshDir("g"), "bad.tar.gz");
    writeFileSync(garbage, gzipSync(Buffer.from("this is not a tar archive at all".repeat(40))));
    await assert.rejects(
      extractWorkspace(garbage, freshDir("d")),
      (err: unknown) => err instanceof FedmlError && err.resultCode === 11 && /cannot be unpacked/.test(err.message),
    );
  });

  test("from a stream: unpacks as the bytes arrive; a stream cut midway leaves nothing at the destination", async () => {
    const file = craftArchive([
      { path: "big.bin", type: "File", body: "x".repeat(300_000) },
      { path: "late.txt", type: "File", body: "late\n" },
    ]);
    const bytes = readFileSync(file);
    const whole = join(freshDir("dest"), "ws");
    assert.deepEqual(await extractWorkspaceStream(Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]), whole, "w"), {
      fileCount: 2,
    });
    assert.equal(readFileSync(join(whole, "late.txt"), "utf8"), "late\n");
    const parent = freshDir("dest");
    const cut = Readable.from(
      (async function* () {
        yield bytes.subarray(0, Math.floor(bytes.length / 2));
        throw new Error("connection reset");
      })(),
    );
    await assert.rejects(
      extractWorkspaceStream(cut, join(parent, "ws"), "workspace w"),
      (err: unknown) =>
        err instanceof FedmlError && err.message === "workspace archive workspace w cannot be unpacked: connection reset",
    );
    assert.deepEqual(readdirSync(parent), [], "neither the folder nor its staging copy is left");
  });

  test("an archive that expands past node-tar's ratio bound is refused", async () => {
    const bomb = join(freshDir("bomb"), "bomb.tar.gz");
    const header = new Header({ path: "zeros", type: "File", size: 16 * 1024 * 1024, mode: 0o644, mtime: new Date(0) });
    header.encode();
    assert.ok(header.block);
    writeFileSync(bomb, gzipSync(Buffer.concat([header.block, Buffer.alloc(16 * 1024 * 1024)]), { level: 9 }));
    const parent = freshDir("dest");
    await assert.rejects(extractWorkspace(bomb, join(parent, "ws")), /max decompression ratio exceeded/);
    assert.deepEqual(readdirSync(parent), []);
  });
});
