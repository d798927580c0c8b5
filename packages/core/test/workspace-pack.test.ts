import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import {
  DEFAULT_MAX_WORKSPACE_BYTES,
  extractWorkspace,
  FedmlError,
  listWorkspace,
  maxWorkspaceBytesFromEnv,
  packWorkspace,
  ResultCode,
  sha256File,
} from "../src/index.js";

const root = mkdtempSync(join(tmpdir(), "fedml-core-pack-"));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (name: string) => {
  const dir = join(root, `${++counter}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** Writes `files` (path -> contents) under `dir`. */
function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
}

const BIG = 1 << 30;
const pack = (dir: string, maxBytes = BIG) => packWorkspace(dir, { maxBytes, outFile: join(freshDir("out"), "ws.tar.gz") });

function isFedmlError(code: number, message: string | RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof FedmlError, String(err));
    assert.equal(err.resultCode, code);
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

describe("packWorkspace", () => {
  test("same contents give the same bytes, whatever the mtimes", async () => {
    const files = { "train.py": "print(1)\n", "data/a.csv": "1,2\n", "data/b.csv": "3,4\n", "@weird name.txt": "x" };
    const a = freshDir("a");
    const b = freshDir("b");
    writeTree(a, files);
    writeTree(b, Object.fromEntries(Object.entries(files).reverse()));
    utimesSync(join(b, "train.py"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const [pa, pb, pa2] = [await pack(a), await pack(b), await pack(a)];
    assert.equal(pa.sha256, pb.sha256);
    assert.equal(pa.sha256, pa2.sha256);
    assert.equal(pa.fileCount, 4);
    assert.equal(pa.unpackedBytes, 9 + 4 + 4 + 1);
    assert.equal(pa.size, statSync(pa.file).size);
    assert.equal(pa.sha256, createHash("sha256").update(readFileSync(pa.file)).digest("hex"));
    writeFileSync(join(b, "train.py"), "print(2)\n");
    assert.notEqual((await pack(b)).sha256, pa.sha256);
  });

  test("honours .gitignore at the root and in subfolders, and skips .git", async () => {
    const dir = freshDir("ignored");
    writeTree(dir, {
      ".gitignore": "*.log\ncache/\n/only-root.txt\n",
      "keep.py": "",
      "run.log": "",
      "cache/x.bin": "",
      "only-root.txt": "",
      "sub/only-root.txt": "",
      "sub/.gitignore": "!important.log\n*.tmp\n",
      "sub/important.log": "",
      "sub/other.log": "",
      "sub/scratch.tmp": "",
      "sub/deeper/scratch.tmp": "",
      ".git/HEAD": "ref: refs/heads/main\n",
      "vendor/.git": "gitdir: ../.git/modules/vendor\n",
      "vendor/lib.py": "",
    });
    const rels = (await listWorkspace(dir)).map((e) => e.rel);
    assert.deepEqual(rels, [
      ".gitignore",
      "keep.py",
      "sub",
      "sub/.gitignore",
      "sub/deeper",
      "sub/important.log",
      "sub/only-root.txt",
      "vendor",
      "vendor/lib.py",
    ]);
  });

  test("keeps exec bits and symlinks through a round trip", async () => {
    const dir = freshDir("modes");
    writeTree(dir, { "run.sh": "#!/bin/sh\necho hi\n", "data/x.txt": "x", "empty/.keep": "" });
    chmodSync(join(dir, "run.sh"), 0o755);
    symlinkSync("data/x.txt", join(dir, "link.txt"));
    symlinkSync("../run.sh", join(dir, "data/run-link"));
    const packed = await pack(dir);
    assert.equal(packed.fileCount, 5);
    const dest = join(freshDir("dest"), "ws");
    assert.deepEqual(await extractWorkspace(packed.file, dest), { fileCount: 5 });
    assert.equal(statSync(join(dest, "run.sh")).mode & 0o111, 0o111);
    assert.equal(statSync(join(dest, "data/x.txt")).mode & 0o111, 0);
    assert.ok(lstatSync(join(dest, "link.txt")).isSymbolicLink());
    assert.equal(readlinkSync(join(dest, "link.txt")), "data/x.txt");
    assert.equal(readlinkSync(join(dest, "data/run-link")), "../run.sh");
    assert.equal(readFileSync(join(dest, "link.txt"), "utf8"), "x");
    assert.equal(readFileSync(join(dest, "run.sh"), "utf8"), "#!/bin/sh\necho hi\n");
  });

  test("a missing folder or a file -> 11 workspace not found", async () => {
    const missing = join(root, "no-such-folder");
    await assert.rejects(
      pack(missing),
      isFedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace not found: ${missing}`),
    );
    const file = join(freshDir("f"), "file.txt");
    writeFileSync(file, "x");
    await assert.rejects(pack(file), isFedmlError(11, `workspace not found: ${file}`));
  });

  test("over the cap -> 11, and no archive is written", async () => {
    const dir = freshDir("big");
    writeTree(dir, {
      "a.bin": "x".repeat(300_000),
      "b.bin": "y".repeat(200_000),
      "ignored.bin": "z".repeat(900_000),
      ".gitignore": "ignored.bin\n",
    });
    const outFile = join(freshDir("out"), "ws.tar.gz");
    await assert.rejects(
      packWorkspace(dir, { maxBytes: 1024 * 1024 * 0.25, outFile }),
      isFedmlError(11, `workspace ${dir} holds 0.5 MB, over the 0.3 MB cap (set FEDML_MAX_WORKSPACE_MB or add a .gitignore)`),
    );
    assert.equal(existsSync(outFile), false);
    const fits = await packWorkspace(dir, { maxBytes: 1024 * 1024, outFile });
    assert.equal(fits.unpackedBytes, 500_000 + "ignored.bin\n".length);
  });

  test("a symlink leaving the workspace -> 11", async () => {
    const dir = freshDir("escape");
    writeTree(dir, { "a.txt": "" });
    symlinkSync("/etc/passwd", join(dir, "passwd"));
    await assert.rejects(
      pack(dir),
      isFedmlError(11, /symlink 'passwd' points outside the workspace \(\/etc\/passwd\); remove it or add it to \.gitignore$/),
    );
    writeFileSync(join(dir, ".gitignore"), "passwd\n");
    assert.equal((await pack(dir)).fileCount, 2);
  });
});

describe("maxWorkspaceBytesFromEnv", () => {
  test("defaults to 500 MB and reads FEDML_MAX_WORKSPACE_MB", () => {
    assert.equal(DEFAULT_MAX_WORKSPACE_BYTES, 500 * 1024 * 1024);
    assert.equal(maxWorkspaceBytesFromEnv({}), DEFAULT_MAX_WORKSPACE_BYTES);
    assert.equal(maxWorkspaceBytesFromEnv({ FEDML_MAX_WORKSPACE_MB: "" }), DEFAULT_MAX_WORKSPACE_BYTES);
    assert.equal(maxWorkspaceBytesFromEnv({ FEDML_MAX_WORKSPACE_MB: "2" }), 2 * 1024 * 1024);
    assert.equal(maxWorkspaceBytesFromEnv({ FEDML_MAX_WORKSPACE_MB: "0.5" }), 512 * 1024);
    for (const bad of ["0", "-1", "lots", "Infinity"]) {
      assert.throws(
        () => maxWorkspaceBytesFromEnv({ FEDML_MAX_WORKSPACE_MB: bad }),
        isFedmlError(3, /^FEDML_MAX_WORKSPACE_MB must be a positive number/),
      );
    }
  });
});

describe("sha256File", () => {
  test("hashes the file's bytes", async () => {
    const file = join(freshDir("sha"), "x.bin");
    const body = Buffer.alloc(200_000, 7);
    writeFileSync(file, body);
    assert.equal(await sha256File(file), createHash("sha256").update(body).digest("hex"));
  });
});
