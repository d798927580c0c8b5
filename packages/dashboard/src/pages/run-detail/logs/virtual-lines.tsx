import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

export const ROW_PX = 18;
/** Taller than this, browsers clip an element: past it, scroll positions map to lines proportionally. */
const MAX_SPACER_PX = 8_000_000;

export interface VirtualLinesProps {
  total: number;
  /** The text of view line `index` (0-based), or undefined while it loads. */
  lineAt(index: number): string | undefined;
  /** Keep the last line in view as lines arrive. */
  follow: boolean;
  onFollowChange(follow: boolean): void;
  /** Bring this line into view (changes of `target.nonce` repeat a jump to the same line). */
  target?: { index: number; nonce: number };
  /** Marked where it occurs (any case). */
  highlight?: string;
  /** The line marked as the current search match. */
  current?: number;
}

/**
 * Renders only the lines in view (plus a few), however many the log has: a spacer as tall as
 * the log (or, past MAX_SPACER_PX, scaled), and the visible rows placed over it.
 */
export function VirtualLines(props: VirtualLinesProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const frame = useRef(0);

  const natural = props.total * ROW_PX;
  const spacer = Math.min(natural, MAX_SPACER_PX);
  const scaled = natural > MAX_SPACER_PX;
  const visible = Math.ceil(viewport / ROW_PX) + 1;
  const maxScroll = Math.max(0, spacer - viewport);

  const firstAt = (top: number) =>
    scaled ? Math.round((top / Math.max(1, maxScroll)) * Math.max(0, props.total - visible + 1)) : Math.floor(top / ROW_PX);
  const topOf = (index: number) => (scaled ? (index / Math.max(1, props.total - visible + 1)) * maxScroll : index * ROW_PX);

  const scrollTo = (top: number) => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = top;
    setScrollTop(el.scrollTop);
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const resize = new ResizeObserver(() => setViewport(el.clientHeight));
    resize.observe(el);
    return () => resize.disconnect();
  }, []);

  // Following: stay at the bottom as the log grows.
  useLayoutEffect(() => {
    if (props.follow) scrollTo(maxScroll);
  }, [props.follow, props.total, maxScroll]);

  useLayoutEffect(() => {
    if (props.target) scrollTo(Math.max(0, topOf(props.target.index) - viewport / 3));
  }, [props.target?.nonce]);

  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    // Scrolling up stops following; scrolling back to the bottom resumes it.
    const atBottom = el.scrollTop >= el.scrollHeight - el.clientHeight - ROW_PX;
    if (atBottom !== props.follow) props.onFollowChange(atBottom);
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => setScrollTop(el.scrollTop));
  };

  // Following, the bottom is what shows (before the scroll to it lands): no page of the top is fetched for nothing.
  const first = Math.max(0, Math.min(props.follow ? props.total - visible + 1 : firstAt(scrollTop), props.total - 1));
  const last = Math.min(props.total, first + visible + 1);
  const rowsTop = scaled ? scrollTop : first * ROW_PX;
  const rows = [];
  for (let i = first; i < last; i++) {
    const text = props.lineAt(i);
    rows.push(
      <div key={i} class={i === props.current ? "log-line current" : "log-line"} data-line={i + 1}>
        <span class="log-no">{i + 1}</span>
        {text === undefined ? <span class="log-loading">…</span> : <Highlighted text={text} mark={props.highlight} />}
      </div>,
    );
  }
  return (
    <div class="log-scroller" ref={scroller} onScroll={onScroll} data-testid="log-lines">
      <div class="log-spacer" style={{ height: `${spacer}px` }} />
      <div class="log-rows" style={{ transform: `translateY(${rowsTop}px)` }}>
        {rows}
      </div>
    </div>
  );
}

function Highlighted({ text, mark }: { text: string; mark?: string }) {
  if (!mark) return <span>{text}</span>;
  const lower = text.toLowerCase();
  const needle = mark.toLowerCase();
  const parts = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) {
    parts.push(text.slice(from, at), <mark key={at}>{text.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
  }
  parts.push(text.slice(from));
  return <span>{parts}</span>;
}
