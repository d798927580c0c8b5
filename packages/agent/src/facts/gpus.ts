/** Finds the machine's GPUs with nvidia-smi; when none are found, says exactly why. */
import { execFile } from "node:child_process";
import type { GpuInfo } from "@fedml/core/contract";
import { NVIDIA_SMI_QUERY_ARGS, parseNvidiaSmiCsv } from "./nvidia-smi-csv.js";

export { parseNvidiaSmiCsv } from "./nvidia-smi-csv.js";

export interface GpuDetection {
  gpus: GpuInfo[];
  /** Null when nvidia-smi ran fine (even with zero GPUs listed). */
  error: string | null;
}

const NVIDIA_SMI_TIMEOUT_MS = 15_000;

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/)[0] ?? "";
}

/** `command` is the nvidia-smi binary (a path, or a name looked up on PATH). */
export function detectNvidiaGpus(command = "nvidia-smi"): Promise<GpuDetection> {
  return new Promise((resolve) => {
    execFile(command, NVIDIA_SMI_QUERY_ARGS, { timeout: NVIDIA_SMI_TIMEOUT_MS, encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
        let error: string;
        if (e.code === "ENOENT")
          error = `${command} not found on PATH (no NVIDIA driver here, or set FEDML_NVIDIA_SMI to its path)`;
        else if (e.code === "EACCES") error = `${command} is not executable`;
        else if (e.killed) error = `${command} did not answer within ${NVIDIA_SMI_TIMEOUT_MS / 1000} s`;
        else if (typeof e.code === "number") {
          const said = firstLine(stderr) || firstLine(stdout);
          error = `${command} exited with code ${e.code}${said ? `: ${said}` : ""}`;
        } else error = `${command} failed: ${e.message.split("\n")[0]}`;
        return resolve({ gpus: [], error });
      }
      try {
        resolve({ gpus: parseNvidiaSmiCsv(stdout), error: null });
      } catch (parseError) {
        resolve({ gpus: [], error: (parseError as Error).message });
      }
    });
  });
}
