// The dashboard packs a workspace in the browser; the agent unpacks it with the same checks
// as a CLI-packed one. Pure parts, run under Node: the archive and the view's line arithmetic.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { extractWorkspace } from "@fedml/core";
import { gzipSync } from "fflate";
import { indexOf, locate, viewLength } from "../src/pages/run-detail/logs/log-nodes.js";
import { tarOf } from "../src/workspace/tar.js";

test("a browser-packed workspace unpacks on the agent with its folders, long paths and modes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fedml-dash-pack-"));
  try {
    const long = `${"deep/".repeat(30)}model.py`;
    const files = [
      { path: "train.py", bytes: new TextEncoder().encode("print('hi')\n") },
      { path: "run.sh", bytes: new TextEncoder().encode("#!/bin/sh\necho ok\n"), executable: true },
      { path: long, bytes: new Uint8Array(1000).fill(65) },
      { path: "empty.txt", bytes: new Uint8Array(0) },
    ];
    const archive = gzipSync(tarOf(files), { mtime: 0 });
    // The same files, in any order, make the same bytes: the server keeps one copy by sha256.
    assert.deepEqual(gzipSync(tarOf([...files].reverse()), { mtime: 0 }), archive);
    writeFileSync(join(dir, "ws.tar.gz"), archive);
    const { fileCount } = await extractWorkspace(join(dir, "ws.tar.gz"), join(dir, "out"));
    assert.equal(fileCount, 4);
    assert.equal(readFileSync(join(dir, "out", "train.py"), "utf8"), "print('hi')\n");
    assert.equal(readFileSync(join(dir, "out", long), "utf8"), "A".repeat(1000));
    assert.equal(statSync(join(dir, "out", "run.sh")).mode & 0o111, 0o111);
    assert.throws(() => tarOf([{ path: `${"x".repeat(120)}/${"y".repeat(120)}`, bytes: new Uint8Array(1) }]), /too long/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the log view maps its lines to nodes and back: one node, or all nodes in rank order", () => {
  const nodes = [
    { deviceId: "7", name: "a", rank: 0, count: 3 },
    { deviceId: "9", name: "b", rank: 1, count: 0 },
    { deviceId: "4", name: "c", rank: 2, count: 2 },
  ];
  assert.equal(viewLength(nodes, "all"), 5);
  assert.equal(viewLength(nodes, { deviceId: "4" }), 2);
  assert.deepEqual(
    [0, 2, 3, 4].map((i) => {
      const at = locate(nodes, "all", i);
      return at && [at.node.deviceId, at.seq];
    }),
    [
      ["7", 1],
      ["7", 3],
      ["4", 1],
      ["4", 2],
    ],
  );
  assert.equal(locate(nodes, "all", 5), undefined);
  assert.equal(locate(nodes, { deviceId: "4" }, 2), undefined);
  assert.equal(indexOf(nodes, "all", "4", 2), 4);
  assert.equal(indexOf(nodes, { deviceId: "4" }, "4", 2), 1);
});
