import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ArchiveEntryInfo, findUnsafeEntry } from "../src/index.js";

const file = (path: string): ArchiveEntryInfo => ({ path, type: "File" });
const dir = (path: string): ArchiveEntryInfo => ({ path, type: "Directory" });
const symlink = (path: string, linkpath: string): ArchiveEntryInfo => ({ path, type: "SymbolicLink", linkpath });
const hardlink = (path: string, linkpath: string): ArchiveEntryInfo => ({ path, type: "Link", linkpath });

describe("findUnsafeEntry", () => {
  test("a plain workspace is safe", () => {
    assert.equal(
      findUnsafeEntry([
        dir("src/"),
        file("src/main.py"),
        symlink("latest", "src/main.py"),
        symlink("src/up", "../README.md"),
        symlink("src/self", "."),
        hardlink("copy.py", "src/main.py"),
        file("README.md"),
        dir("./"),
      ]),
      null,
    );
  });

  const cases: [string, ArchiveEntryInfo[], string, string][] = [
    ["absolute path", [file("/etc/passwd")], "/etc/passwd", "has an absolute path"],
    ["windows drive path", [file("C:/x")], "C:/x", "has an absolute path"],
    ["dot-dot segment", [file("a/../../x")], "a/../../x", "climbs out with '..'"],
    ["dot-dot with backslash", [file("a\\..\\x")], "a\\..\\x", "climbs out with '..'"],
    ["absolute symlink", [symlink("l", "/etc")], "l", "is a symlink to the absolute path '/etc'"],
    ["symlink climbing out", [symlink("a/l", "../../x")], "a/l", "is a symlink that points outside the workspace ('../../x')"],
    [
      "symlink escaping through another symlink",
      [symlink("here", "."), symlink("l", "here/..")],
      "l",
      "is a symlink that points outside the workspace ('here/..')",
    ],
    [
      "symlink escaping through a deeper symlink",
      [symlink("a", "."), symlink("b/l", "../a/..")],
      "b/l",
      "is a symlink that points outside the workspace ('../a/..')",
    ],
    ["symlink loop", [symlink("x", "y"), symlink("y", "x")], "x", "is a symlink that points outside the workspace ('y')"],
    ["write through a symlink", [symlink("a", "sub"), file("a/f")], "a/f", "lies under the symlink 'a'"],
    ["hard link out", [hardlink("h", "../secret")], "h", "is a hard link to '../secret' outside the workspace"],
    ["absolute hard link", [hardlink("h", "/etc/shadow")], "h", "is a hard link to '/etc/shadow' outside the workspace"],
    ["character device", [{ path: "tty", type: "CharacterDevice" }], "tty", "is a character device"],
    ["block device", [{ path: "sda", type: "BlockDevice" }], "sda", "is a block device"],
    ["FIFO", [{ path: "pipe", type: "FIFO" }], "pipe", "is a FIFO"],
    ["duplicate path", [file("a"), symlink("./a", "b")], "./a", "appears twice"],
  ];
  for (const [name, entries, entryName, why] of cases) {
    test(`refuses: ${name}`, () => {
      assert.deepEqual(findUnsafeEntry([file("ok.txt"), ...entries]), { name: entryName, why });
    });
  }
});
