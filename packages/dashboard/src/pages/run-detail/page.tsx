import type { PageDefinition } from "../page-definition.js";
import { RunDetailPage } from "./run-detail-page.js";

export const page: PageDefinition = {
  path: "/runs/:id",
  title: "Run",
  component: RunDetailPage,
};
