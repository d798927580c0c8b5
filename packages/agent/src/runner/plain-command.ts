/**
 * A job command that needs no shell: one line of plain words (no quotes, variables, globs,
 * redirections, pipes, operators, comments or assignments) whose first word names a program,
 * not a shell builtin or keyword. Such a command is exec'd directly, saving a bash start per
 * job (the bulk of a short job's own cost); anything else runs as `bash job.sh`, as always.
 */
import { accessSync, constants, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** bash's builtins and reserved words: a command starting with one of them needs bash. */
const SHELL_WORDS = new Set(
  (
    ". : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown " +
    "echo enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile " +
    "popd printf pushd pwd read readarray readonly return set shift shopt source suspend test times trap true type " +
    "typeset ulimit umask unalias unset wait if then else elif fi case esac for select while until do done in " +
    "function time coproc"
  ).split(" "),
);

/** Builtins whose program of the same name does exactly the same with plain words. */
const SAME_AS_PROGRAM = new Set(["true", "false"]);

/** Pure: the words of a command that needs no shell, or null. */
export function plainWords(command: string): string[] | null {
  const text = command.trim();
  if (text === "" || /[\r\n]/.test(text)) return null;
  const words = text.split(/[ \t]+/);
  if (!words.every((word) => PLAIN_WORD.test(word))) return null;
  const program = words[0];
  if (program.includes("=") || program.startsWith("-")) return null;
  if (SHELL_WORDS.has(program) && !SAME_AS_PROGRAM.has(program)) return null;
  return words;
}

/** How long a program found on the PATH is taken to be there without a new search. */
export const FOUND_PROGRAM_TTL_MS = 1_000;

/** key (program, PATH, who runs it) -> the file found and when; only for a PATH of absolute dirs. */
const found = new Map<string, { file: string; atMs: number }>();

/**
 * Where exec would find `program` through `pathVar` (relative to `cwd` when it has a slash);
 * null when no executable file is found, so that bash reports what is wrong as it always did.
 * `forOthers`: the job runs as another user, who needs the world's execute bit. Like bash's
 * hash of commands, a program found is remembered (for a second, each use checking it is
 * still there): a PATH of many directories otherwise costs a stat of each, job after job.
 */
export function findProgram(
  program: string,
  pathVar: string,
  cwd: string,
  forOthers: boolean,
  nowMs = Date.now(),
): string | null {
  const dirs = program.includes("/") ? [] : pathVar.split(":");
  const cacheable = dirs.length > 0 && dirs.every((dir) => isAbsolute(dir));
  const key = `${forOthers ? "o" : "s"}\0${program}\0${pathVar}`;
  if (cacheable) {
    const hit = found.get(key);
    if (hit && nowMs - hit.atMs < FOUND_PROGRAM_TTL_MS && runnable(hit.file, forOthers)) return hit.file;
    found.delete(key);
  }
  const candidates = program.includes("/")
    ? [isAbsolute(program) ? program : resolve(cwd, program)]
    : dirs.map((dir) => join(dir === "" ? cwd : resolve(cwd, dir), program));
  for (const file of candidates) {
    if (!runnable(file, forOthers)) continue;
    if (cacheable) {
      if (found.size >= 256) found.clear();
      found.set(key, { file, atMs: nowMs });
    }
    return file;
  }
  return null;
}

function runnable(file: string, forOthers: boolean): boolean {
  try {
    // Most of the PATH has no such file: no exception per directory.
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) return false;
    return forOthers ? (stat.mode & 0o001) !== 0 : isExecutable(file);
  } catch {
    return false;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
