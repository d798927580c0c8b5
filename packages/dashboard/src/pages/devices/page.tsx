import { Placeholder } from "../../components/placeholder.js";
import type { PageDefinition } from "../page-definition.js";

export const page: PageDefinition = {
  path: "/devices",
  title: "Devices & offers",
  nav: { label: "Devices & offers", order: 20 },
  component: () => <Placeholder title="Devices & offers" cli="fedml device list; fedml offers" />,
};
