import { useState } from "preact/hooks";
import { useLocation } from "wouter-preact";
import { launchRun } from "../../api/runs.js";
import { uploadWorkspace } from "../../api/workspaces.js";
import { Modal } from "../../components/modal.js";
import { type PackedWorkspace, packFolder, packZip } from "../../workspace/pack.js";

type Source = "folder" | "zip" | "none";

/** Launch as `fedml launch` does: the YAML's text, and the workspace packed here, uploaded by its sha256. */
export function LaunchDialog({ onClose }: { onClose: () => void }) {
  const [, navigate] = useLocation();
  const [yamlText, setYamlText] = useState("");
  const [yamlPath, setYamlPath] = useState<string | undefined>(undefined);
  const [source, setSource] = useState<Source>("folder");
  const [files, setFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const loadYaml = async (file: File | undefined) => {
    if (!file) return;
    setYamlPath(file.name);
    setYamlText(await file.text());
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      let workspace: PackedWorkspace | null = null;
      if (source !== "none" && files.length > 0) {
        setProgress("Packing the workspace…");
        workspace = source === "zip" ? await packZip(files[0]) : await packFolder(files);
        setProgress(`Uploading ${workspace.fileCount} files (${(workspace.archive.length / 1024).toFixed(1)} KiB)…`);
        await uploadWorkspace(workspace.sha256, workspace.archive);
      }
      setProgress("Launching…");
      const result = await launchRun({
        yamlText,
        yamlPath,
        workspaceName: workspace?.name ?? null,
        workspaceSha256: workspace?.sha256 ?? null,
      });
      // Queued (5) is a launch too: the run page says why it waits.
      if (result.runId) {
        navigate(`/runs/${result.runId}`);
        return;
      }
      setError(`${result.resultMsg} (code ${result.resultCode})`);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setProgress(null);
    }
  };

  return (
    <Modal title="Launch a job" onClose={onClose}>
      <form class="launch" onSubmit={submit} aria-label="Launch a job">
        <label>
          Job YAML file{" "}
          <input
            type="file"
            name="yaml-file"
            accept=".yaml,.yml,text/yaml"
            onChange={(e) => loadYaml(e.currentTarget.files?.[0])}
          />
        </label>
        <textarea
          name="yaml"
          rows={12}
          spellcheck={false}
          placeholder={"job: |\n  echo hello\ncomputing:\n  minimum_num_gpus: 0"}
          value={yamlText}
          onInput={(e) => setYamlText(e.currentTarget.value)}
        />
        <fieldset>
          <legend>Workspace</legend>
          {(["folder", "zip", "none"] as const).map((s) => (
            <label key={s} class="inline">
              <input
                type="radio"
                name="source"
                checked={source === s}
                onChange={() => {
                  setSource(s);
                  setFiles([]);
                }}
              />
              {s === "folder" ? "Folder" : s === "zip" ? "Zip file" : "None"}
            </label>
          ))}
          {source === "folder" && (
            <input
              type="file"
              name="workspace-folder"
              // biome-ignore lint/suspicious/noExplicitAny: webkitdirectory is not in the JSX types.
              {...({ webkitdirectory: true, directory: true } as any)}
              multiple
              onChange={(e) => setFiles([...(e.currentTarget.files ?? [])])}
            />
          )}
          {source === "zip" && (
            <input
              type="file"
              name="workspace-zip"
              accept=".zip,application/zip"
              onChange={(e) => setFiles([...(e.currentTarget.files ?? [])])}
            />
          )}
          <p class="hint">
            The folder the YAML's <code>workspace:</code> names; it is packed here and uploaded once.
          </p>
        </fieldset>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          {progress && <span class="hint">{progress}</span>}
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={progress !== null || yamlText.trim() === ""}>
            Launch
          </button>
        </div>
      </form>
    </Modal>
  );
}
