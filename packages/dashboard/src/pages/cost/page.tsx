import type { PageDefinition } from "../page-definition.js";
import { CostPage } from "./cost-page.js";

export const page: PageDefinition = {
  path: "/cost",
  title: "Cost & credit",
  nav: { label: "Cost & credit", order: 50 },
  component: CostPage,
};
