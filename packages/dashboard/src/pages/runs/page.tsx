import type { PageDefinition } from "../page-definition.js";
import { RunsPage } from "./runs-page.js";

export const page: PageDefinition = {
  path: "/runs",
  title: "Runs",
  nav: { label: "Runs", order: 10 },
  component: RunsPage,
};
