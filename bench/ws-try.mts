import { workspace } from "./workspace.js";
const r = await workspace(Number(process.argv[2] ?? 300), (s) => console.log(s));
console.log(JSON.stringify(r));
