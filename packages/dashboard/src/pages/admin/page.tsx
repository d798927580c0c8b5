import { Placeholder } from "../../components/placeholder.js";
import type { PageDefinition } from "../page-definition.js";

export const page: PageDefinition = {
  path: "/admin",
  title: "Admin",
  nav: { label: "Admin", order: 90, adminOnly: true },
  component: () => <Placeholder title="Admin" cli="fedml user list" />,
};
