import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  /** Load again now (e.g. after an action). */
  reload(): void;
}

/**
 * Loads now and again every `intervalMs` while the tab is visible, so the page stays live
 * without a reload. A load still in flight when the inputs change is abandoned.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], intervalMs = 2000): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (document.visibilityState === "visible") {
        try {
          const value = await loadRef.current(abort.signal);
          if (abort.signal.aborted) return;
          setData(value);
          setError(undefined);
        } catch (err) {
          if (abort.signal.aborted) return;
          setError(err instanceof Error ? err : new Error(String(err)));
        }
      }
      if (!abort.signal.aborted && intervalMs > 0) timer = setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [...deps, tick, intervalMs]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
