import ignore, { type Ignore } from "ignore";

/** The rules of one `.gitignore`, which apply to paths below the folder that holds it. */
export interface GitignoreRules {
  /** Folder of the .gitignore, relative to the workspace root ("" for the root), with "/". */
  base: string;
  rules: Ignore;
}

export function compileGitignore(base: string, text: string): GitignoreRules {
  return { base, rules: ignore().add(text) };
}

/**
 * Git's answer for one path: the deepest .gitignore with a matching rule decides (so a
 * subfolder's `!keep.txt` beats the root's `*.txt`). Paths are relative to the workspace.
 */
export function isIgnored(stack: readonly GitignoreRules[], relPath: string, isDir: boolean): boolean {
  for (let i = stack.length - 1; i >= 0; i--) {
    const { base, rules } = stack[i];
    const local = base === "" ? relPath : relPath.slice(base.length + 1);
    const verdict = rules.test(isDir ? `${local}/` : local);
    if (verdict.ignored) return true;
    if (verdict.unignored) return false;
  }
  return false;
}
