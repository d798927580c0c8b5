import { logsEndToEnd } from "./logs-e2e.js";
const r = await logsEndToEnd(Number(process.argv[2] ?? 500), Number(process.argv[3] ?? 100000), (s) => console.log(s));
console.log(JSON.stringify(r));
