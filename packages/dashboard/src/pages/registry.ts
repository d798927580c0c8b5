import type { PageDefinition } from "./page-definition.js";

// Every pages/<name>/page.tsx, bundled at build time: a new page is a new folder.
const modules = import.meta.glob<{ page: PageDefinition }>("./*/page.tsx", { eager: true });

/** Every page; routes with fixed segments before parametric ones so "/runs/new" would win over "/runs/:id". */
export const pages: PageDefinition[] = Object.values(modules)
  .map((m) => m.page)
  .sort((a, b) => specificity(b.path) - specificity(a.path));

function specificity(path: string): number {
  return path.split("/").filter((s) => s && !s.startsWith(":") && s !== "*").length * 10 - (path.includes(":") ? 1 : 0);
}

export const navPages = pages.filter((p) => p.nav).sort((a, b) => (a.nav?.order ?? 0) - (b.nav?.order ?? 0));
