import { fleet } from "./fleet.js";
const n = Number(process.argv[2] ?? 200);
const r = await fleet([n], Number(process.argv[3] ?? 10000), 50, (s) => console.log(s));
console.log(JSON.stringify(r, null, 1));
