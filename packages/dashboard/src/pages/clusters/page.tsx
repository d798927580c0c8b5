import { Placeholder } from "../../components/placeholder.js";
import type { PageDefinition } from "../page-definition.js";

export const page: PageDefinition = {
  path: "/clusters",
  title: "Clusters",
  nav: { label: "Clusters", order: 30 },
  component: () => <Placeholder title="Clusters" cli="fedml cluster list" />,
};
