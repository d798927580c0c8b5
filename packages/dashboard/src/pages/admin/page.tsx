import type { PageDefinition } from "../page-definition.js";
import { AdminPage } from "./admin-page.js";

export const page: PageDefinition = {
  path: "/admin",
  title: "Admin",
  nav: { label: "Admin", order: 90, adminOnly: true },
  component: AdminPage,
};
