import type { PageDefinition } from "../page-definition.js";
import { EndpointsPage } from "./endpoints-page.js";

export const page: PageDefinition = {
  path: "/endpoints",
  title: "Endpoints",
  nav: { label: "Endpoints", order: 40 },
  component: EndpointsPage,
};
