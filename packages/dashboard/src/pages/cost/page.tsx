import { Placeholder } from "../../components/placeholder.js";
import type { PageDefinition } from "../page-definition.js";

export const page: PageDefinition = {
  path: "/cost",
  title: "Cost & credit",
  nav: { label: "Cost & credit", order: 50 },
  component: () => <Placeholder title="Cost & credit" cli="fedml cost; fedml credit" />,
};
