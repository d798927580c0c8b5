import type { ComponentType } from "preact";

/** Props every page gets: the route's named parameters (e.g. `id` of /runs/:id). */
export interface PageProps {
  params: Record<string, string | undefined>;
}

/**
 * One page of the dashboard. Each page folder's `page.tsx` exports `page: PageDefinition`;
 * pages/registry.ts finds them all, so adding a page touches no other file.
 */
export interface PageDefinition {
  /** Route pattern (wouter syntax), e.g. "/runs/:id". */
  path: string;
  /** Shown in the browser's title bar. */
  title: string;
  component: ComponentType<PageProps>;
  /** In the navigation bar: its label and place (lower first). Absent: not in the bar. */
  nav?: { label: string; order: number; adminOnly?: boolean };
}
