import { useEffect } from "preact/hooks";

/** Sets the browser's title while the page is shown. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · FedML Launch`;
  }, [title]);
}
