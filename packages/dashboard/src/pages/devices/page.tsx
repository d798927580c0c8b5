import type { PageDefinition } from "../page-definition.js";
import { DevicesPage } from "./devices-page.js";

export const page: PageDefinition = {
  path: "/devices",
  title: "Devices & offers",
  nav: { label: "Devices & offers", order: 20 },
  component: DevicesPage,
};
