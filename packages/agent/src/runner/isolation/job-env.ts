/**
 * The environment a job gets: built from an allowlist, never inherited. The agent's own
 * environment may hold the owner's API key (FEDML_API_KEY), cloud credentials or, on the
 * embedded default, the server's admin key; none of it reaches a job.
 */

/** Variables passed through from the agent's environment: how to find programs and speak, no secrets. */
export const PASSED_THROUGH = ["PATH", "LANG", "LANGUAGE", "TERM", "TZ", "LD_LIBRARY_PATH", "CUDA_HOME", "CUDA_PATH"] as const;

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface JobEnvInput {
  /** The agent's environment (process.env). */
  agentEnv: NodeJS.ProcessEnv;
  /** What the server and the run give the job: FEDML_*, CUDA_VISIBLE_DEVICES, MASTER_ADDR, the YAML's extras. */
  jobVars: Record<string, string>;
  home: string;
  tmpDir: string;
  user: string | null;
}

/** Pure. */
export function buildJobEnv(input: JobEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = input.agentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(input.agentEnv)) {
    if (name.startsWith("LC_") && value !== undefined) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  env.HOME = input.home;
  env.TMPDIR = input.tmpDir;
  if (input.user) {
    env.USER = input.user;
    env.LOGNAME = input.user;
  }
  env.PYTHONUNBUFFERED = "1";
  return { ...env, ...input.jobVars };
}
