import { Placeholder } from "../../components/placeholder.js";
import type { PageDefinition } from "../page-definition.js";

export const page: PageDefinition = {
  path: "/endpoints",
  title: "Endpoints",
  nav: { label: "Endpoints", order: 40 },
  component: () => <Placeholder title="Endpoints" cli="fedml endpoint list" />,
};
