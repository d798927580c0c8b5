import { useEffect, useMemo, useReducer, useState } from "preact/hooks";
import { type LogNode, type LogView, indexOf, locate, nodePrefix, viewLength } from "./log-nodes.js";
import { findNext } from "./log-search.js";
import { LogSource } from "./log-source.js";
import { VirtualLines } from "./virtual-lines.js";

// Colour and cursor codes in job output would show as noise.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is exactly what these codes start with.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** The run's logs: a tab per node and "All nodes", live follow, jump to end, search. */
export function LogViewer({ runId }: { runId: string }) {
  const source = useMemo(() => new LogSource(runId), [runId]);
  const [, rerender] = useReducer((n: number, _: undefined) => n + 1, 0);
  const [view, setView] = useState<LogView>("all");
  const [follow, setFollow] = useState(true);
  const [target, setTarget] = useState<{ index: number; nonce: number } | undefined>(undefined);
  const [query, setQuery] = useState("");
  const [match, setMatch] = useState<{ deviceId: string; seq: number } | undefined>(undefined);
  const [searchNote, setSearchNote] = useState<string | null>(null);

  useEffect(() => {
    const unsubscribe = source.subscribe(() => rerender(undefined));
    source.start();
    return () => {
      unsubscribe();
      source.stop();
    };
  }, [source]);

  const nodes = source.nodes;
  const total = viewLength(nodes, view);
  const lineAt = (index: number) => {
    const at = locate(nodes, view, index);
    if (!at) return undefined;
    const text = source.line(at.node, at.seq);
    if (text === undefined) return undefined;
    const clean = text.replace(ANSI, "");
    return view === "all" ? nodePrefix(at.node) + clean : clean;
  };

  const jumpTo = (index: number) => {
    setFollow(false);
    setTarget({ index, nonce: Date.now() });
  };

  const search = async (direction: "next" | "previous") => {
    if (!query.trim() || nodes.length === 0) return;
    const scope = view === "all" ? nodes : nodes.filter((n) => n.deviceId === view.deviceId);
    const from = match ?? (direction === "next" ? { deviceId: scope[0].deviceId, seq: 0 } : lastLineOf(scope));
    setSearchNote("Searching…");
    const found = await findNext(runId, scope, query.trim(), from, direction).catch(() => undefined);
    if (!found) {
      setSearchNote(
        `No ${match ? (direction === "next" ? "later" : "earlier") : ""} line contains “${query.trim()}”`.replace("  ", " "),
      );
      return;
    }
    setSearchNote(null);
    setMatch(found);
    jumpTo(indexOf(nodes, view, found.deviceId, found.seq));
  };

  const tabs: [string, LogView][] = [
    ["All nodes", "all"],
    ...nodes.map((n): [string, LogView] => [tabLabel(n), { deviceId: n.deviceId }]),
  ];
  const isActive = (v: LogView) => (v === "all" ? view === "all" : view !== "all" && view.deviceId === v.deviceId);

  return (
    <div class="logs">
      <div class="log-toolbar">
        <div class="tabs" role="tablist">
          {tabs.map(([label, v]) => (
            <button
              key={label}
              type="button"
              role="tab"
              aria-selected={isActive(v)}
              class={isActive(v) ? "tab active" : "tab"}
              onClick={() => {
                setView(v);
                setMatch(undefined);
                setFollow(true);
              }}
            >
              {label}
            </button>
          ))}
        </div>
        <form
          class="log-search"
          onSubmit={(e) => {
            e.preventDefault();
            void search("next");
          }}
        >
          <input
            aria-label="Search the log"
            placeholder="Search…"
            value={query}
            onInput={(e) => {
              setQuery(e.currentTarget.value);
              setMatch(undefined);
              setSearchNote(null);
            }}
          />
          <button type="button" onClick={() => void search("previous")} aria-label="Previous match">
            ↑
          </button>
          <button type="submit" aria-label="Next match">
            ↓
          </button>
        </form>
        <label class="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
        </label>
        <button type="button" onClick={() => setFollow(true)}>
          Jump to end
        </button>
      </div>
      <div class="log-status hint">
        {total.toLocaleString()} lines{source.runStatus ? ` · run ${source.runStatus}` : ""}
        {searchNote && <span> · {searchNote}</span>}
      </div>
      <VirtualLines
        total={total}
        lineAt={lineAt}
        follow={follow}
        onFollowChange={setFollow}
        target={target}
        highlight={query.trim() || undefined}
        current={match ? indexOf(nodes, view, match.deviceId, match.seq) : undefined}
      />
    </div>
  );
}

const tabLabel = (n: LogNode) => `rank ${n.rank} · ${n.name}`;

function lastLineOf(nodes: readonly LogNode[]): { deviceId: string; seq: number } {
  const last = nodes[nodes.length - 1];
  return { deviceId: last.deviceId, seq: last.count + 1 };
}
