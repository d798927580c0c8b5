import type { PageDefinition } from "../page-definition.js";
import { ClustersPage } from "./clusters-page.js";

export const page: PageDefinition = {
  path: "/clusters",
  title: "Clusters",
  nav: { label: "Clusters", order: 30 },
  component: ClustersPage,
};
