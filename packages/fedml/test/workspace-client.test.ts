import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cacheDirOf, packOrReuse } from "../src/workspace/pack-cache.js";
import { type WorkspaceProgress, progressLine } from "../src/workspace/progress.js";
import { makeTempDir } from "./support/cli.js";

const MAX = 100 * 1024 * 1024;

/** Writes files and dates them (and their folders) `ageMs` back, as a tree left alone for a while. */
function tree(dir: string, files: Record<string, string>, ageMs = 60_000): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  age(dir, Object.keys(files), ageMs);
}

function age(dir: string, rels: string[], ageMs: number): void {
  const when = new Date(Date.now() - ageMs);
  for (const rel of rels) utimesSync(join(dir, rel), when, when);
  utimesSync(dir, when, when);
}

describe("packing once per change", () => {
  test("an unchanged folder reuses its archive; an edit, a new file or a mode change packs again", async () => {
    const tmp = makeTempDir("pack-cache");
    try {
      const ws = join(tmp.dir, "ws");
      const home = join(tmp.dir, "home");
      tree(ws, { "a.txt": "alpha\n", "sub/b.txt": "beta\n" });
      const first = await packOrReuse(ws, home, MAX);
      assert.equal(first.reused, false);
      const second = await packOrReuse(ws, home, MAX);
      assert.deepEqual(second, { ...first, reused: true });

      // Same size, new bytes, an older mtime than before: still seen.
      writeFileSync(join(ws, "a.txt"), "ALPHA\n");
      age(ws, ["a.txt"], 120_000);
      const edited = await packOrReuse(ws, home, MAX);
      assert.equal(edited.reused, false);
      assert.notEqual(edited.sha256, first.sha256);
      assert.equal((await packOrReuse(ws, home, MAX)).reused, true);

      tree(ws, { "sub/c.txt": "gamma\n" });
      assert.equal((await packOrReuse(ws, home, MAX)).reused, false);
      const { chmodSync } = await import("node:fs");
      chmodSync(join(ws, "sub/c.txt"), 0o755);
      const chmodded = await packOrReuse(ws, home, MAX);
      assert.equal(chmodded.reused, false);
      // One archive per folder is kept, not one per change.
      assert.deepEqual(readdirSync(cacheDirOf(home)).sort().length, 2);
    } finally {
      tmp.cleanup();
    }
  });

  test("files changed within the clock's granularity of the last pack are not trusted", async () => {
    const tmp = makeTempDir("pack-racy");
    try {
      const ws = join(tmp.dir, "ws");
      const home = join(tmp.dir, "home");
      tree(ws, { "a.txt": "alpha\n" }, 500);
      assert.equal((await packOrReuse(ws, home, MAX)).reused, false);
      // The mtime is half a second before the pack: an edit in that tick could hide; pack again.
      assert.equal((await packOrReuse(ws, home, MAX)).reused, false);
      age(ws, ["a.txt"], 60_000);
      assert.equal((await packOrReuse(ws, home, MAX)).reused, false);
      assert.equal((await packOrReuse(ws, home, MAX)).reused, true);
    } finally {
      tmp.cleanup();
    }
  });

  test("a missing archive packs again", async () => {
    const tmp = makeTempDir("pack-missing");
    try {
      const ws = join(tmp.dir, "ws");
      const home = join(tmp.dir, "home");
      tree(ws, { "a.txt": "alpha\n" });
      const first = await packOrReuse(ws, home, MAX);
      const { rmSync } = await import("node:fs");
      rmSync(first.file);
      const again = await packOrReuse(ws, home, MAX);
      assert.equal(again.reused, false);
      assert.equal(again.sha256, first.sha256);
      assert.ok(existsSync(again.file));
    } finally {
      tmp.cleanup();
    }
  });
});

describe("progress line", () => {
  test("a bar with bytes and speed, redrawn in place, then a summary line", () => {
    const written: string[] = [];
    let clock = 0;
    const out = { write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const show = progressLine(out, () => clock);
    const MB = 1024 * 1024;
    const events: [number, WorkspaceProgress][] = [
      [0, { kind: "pack", bytes: 0, total: 10 * MB }],
      [500, { kind: "pack", bytes: 5 * MB, total: 10 * MB }],
      [520, { kind: "pack", bytes: 6 * MB, total: 10 * MB }],
      [1000, { kind: "pack", bytes: 10 * MB, total: 10 * MB }],
      [1000, { kind: "packed", bytes: 4 * MB, ms: 1000, reused: false }],
      [1000, { kind: "upload", bytes: 1 * MB, total: 4 * MB, from: 1 * MB }],
      [2000, { kind: "upload", bytes: 4 * MB, total: 4 * MB, from: 1 * MB }],
      [2000, { kind: "uploaded", sent: 3 * MB, total: 4 * MB, ms: 1000, from: 1 * MB, present: false }],
    ];
    for (const [t, e] of events) {
      clock = t;
      show(e);
    }
    assert.deepEqual(written, [
      "\r\x1b[Kpacking   [........................] 0.0 MB / 10.0 MB  0.0 MB/s",
      "\r\x1b[Kpacking   [############............] 5.0 MB / 10.0 MB  10.0 MB/s",
      "\r\x1b[Kpacking   [########################] 10.0 MB / 10.0 MB  10.0 MB/s",
      "\r\x1b[Kpacked the workspace: 4.0 MB in 1.0 s\n",
      "\r\x1b[Kuploading [######..................] 1.0 MB / 4.0 MB  0.0 MB/s",
      "\r\x1b[Kuploading [########################] 4.0 MB / 4.0 MB  3.0 MB/s",
      "\r\x1b[Kuploaded the workspace: 3.0 MB in 1.0 s, 3.0 MB/s, resumed at 1.0 MB\n",
    ]);
  });
});
