import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { FOUND_PROGRAM_TTL_MS, findProgram, plainWords } from "../src/runner/plain-command.js";

describe("plain commands (exec'd without a shell)", () => {
  const dir = mkdtempSync(join(tmpdir(), "fedml-plain-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("plain words naming a program need no shell", () => {
    assert.deepEqual(plainWords("true"), ["true"]);
    assert.deepEqual(plainWords("  python3 train.py --lr=0.1 --out ./runs/a,b  \n"), [
      "python3",
      "train.py",
      "--lr=0.1",
      "--out",
      "./runs/a,b",
    ]);
    assert.deepEqual(plainWords("/usr/bin/env\tA=1"), ["/usr/bin/env", "A=1"]);
  });

  test("anything a shell would interpret keeps the shell", () => {
    for (const command of [
      "",
      "echo hi",
      "cd x",
      "exit 3",
      "export A=1",
      "A=1 python3 x.py",
      "python3 x.py > out",
      "python3 x.py | tee log",
      "python3 x.py && true",
      "python3 x.py; true",
      "python3 $HOME/x.py",
      'python3 "a b.py"',
      "python3 'a.py'",
      "python3 *.py",
      "python3 ~/x.py",
      "python3 x.py # note",
      "python3 x.py &",
      "python3 {a,b}.py",
      "python3 `pwd`",
      "python3 x.py\npython3 y.py",
      "if true",
      "-x",
    ]) {
      assert.equal(plainWords(command), null, command);
    }
  });

  test("the program is found on the job's PATH, or left to bash when it is not there", () => {
    const program = join(dir, "tool");
    writeFileSync(program, "#!/bin/sh\n", { mode: 0o700 });
    const notExecutable = join(dir, "data");
    writeFileSync(notExecutable, "", { mode: 0o600 });
    assert.equal(findProgram("tool", `/nonexistent:${dir}`, "/", false), program);
    assert.equal(findProgram("./tool", "", dir, false), program);
    assert.equal(findProgram("data", dir, "/", false), null);
    assert.equal(findProgram("no-such-program", dir, "/", false), null);
    // Another user runs it: the world's execute bit is what counts.
    assert.equal(findProgram("tool", dir, "/", true), null);
    chmodSync(program, 0o755);
    assert.equal(findProgram("tool", dir, "/", true), program);
  });

  test("a program found is remembered for a second, and searched again once it is gone or the second is over", () => {
    const later = join(dir, "later");
    const earlier = join(dir, "earlier");
    mkdirSync(later);
    mkdirSync(earlier);
    const path = `${earlier}:${later}`;
    writeFileSync(join(later, "tool2"), "#!/bin/sh\n", { mode: 0o755 });
    const t = 1_000_000;
    assert.equal(findProgram("tool2", path, "/", false, t), join(later, "tool2"));
    // Installed earlier on the PATH: as bash's hash, the one found stays until the second is over.
    writeFileSync(join(earlier, "tool2"), "#!/bin/sh\n", { mode: 0o755 });
    assert.equal(findProgram("tool2", path, "/", false, t + 10), join(later, "tool2"));
    assert.equal(findProgram("tool2", path, "/", false, t + FOUND_PROGRAM_TTL_MS), join(earlier, "tool2"));
    // The one remembered is gone: searched again at once.
    rmSync(join(earlier, "tool2"));
    assert.equal(findProgram("tool2", path, "/", false, t + FOUND_PROGRAM_TTL_MS + 1), join(later, "tool2"));
    rmSync(join(later, "tool2"));
    assert.equal(findProgram("tool2", path, "/", false, t + FOUND_PROGRAM_TTL_MS + 2), null);
  });
});
