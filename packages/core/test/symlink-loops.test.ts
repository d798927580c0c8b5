import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { findSymlinkLoop, type LinkEntry } from "../src/workspace/symlink-loops.js";

const dir = (rel: string): LinkEntry => ({ rel, kind: "dir" });
const file = (rel: string): LinkEntry => ({ rel, kind: "file" });
const link = (rel: string, target: string): LinkEntry => ({ rel, kind: "symlink", target });

describe("findSymlinkLoop", () => {
  test("links to files and to folders off their own path are fine", () => {
    assert.equal(
      findSymlinkLoop([dir("a"), file("a/x"), dir("b"), link("b/to-a", "../a"), link("b/x", "../a/x"), link("dangling", "nope")]),
      null,
    );
  });

  test("a link to the root or to a folder holding it", () => {
    assert.equal(
      findSymlinkLoop([link("self", ".")]),
      "symlink 'self' points to a folder that holds it (the workspace): following it never ends",
    );
    assert.equal(
      findSymlinkLoop([dir("a"), dir("a/b"), link("a/b/up", "../..")]),
      "symlink 'a/b/up' points to a folder that holds it (the workspace): following it never ends",
    );
    assert.equal(
      findSymlinkLoop([dir("a"), dir("a/b"), link("a/b/up", "..")]),
      "symlink 'a/b/up' points to a folder that holds it (a): following it never ends",
    );
  });

  test("a chain of links back to itself, directly or through a folder link", () => {
    assert.equal(
      findSymlinkLoop([link("a", "b"), link("b", "c"), link("c", "a")]),
      "symlink 'a' is part of a loop (a -> b -> c -> a)",
    );
    assert.match(findSymlinkLoop([dir("d"), link("d/x", "../y/x"), link("y", "d")]) ?? "", /is part of a loop/);
  });

  test("two folder links that lead into each other", () => {
    assert.match(
      findSymlinkLoop([dir("a"), dir("b"), link("a/to-b", "../b"), link("b/to-a", "../a")]) ?? "",
      /^symlink '(a\/to-b|b\/to-a)' points to a folder that holds it/,
    );
  });
});
