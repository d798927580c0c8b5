/** `fedml cost`, `fedml credit`, `fedml earnings`, `fedml user credit NAME AMOUNT`, and the `fedml launch --dry-run` table. */
import type { Command } from "commander";
import {
  type CostLine,
  type DaySpend,
  type DeviceEarning,
  type DryRunResponse,
  FedmlError,
  type MatchedOffer,
} from "@fedml/core";
import { api } from "../../api/index.js";
import { action, parseInteger, parseNumber } from "../action.js";
import { deviceColumns } from "./device.js";
import { formatTable, formatTime, formatUsd, printJson, printLine, printNote } from "../output.js";

const usd = formatUsd;

export function registerMarketplaceCommands(program: Command): void {
  program
    .command("cost")
    .description("what your runs cost, by project and by provider (--days N: per day)")
    .option("--days <n>", "instead: what you spent and earned on each of the last N days (1-366)", parseInteger("--days"))
    .option("--json", "print the SDK's CostReport (with --days: its SpendByDayResponse) as JSON")
    .action(
      action(async (flags: { days?: number; json?: boolean }) => {
        if (flags.days !== undefined) {
          if (flags.days < 1 || flags.days > 366) throw new FedmlError(3, `--days must be from 1 to 366, got ${flags.days}`);
          const daily = await api.spendByDay({ days: flags.days });
          if (flags.json) return printJson(daily);
          printLine(
            formatTable(daily.dayList, [
              { header: "DAY", value: (d: DaySpend) => d.day },
              { header: "SPENT", value: (d: DaySpend) => usd(d.spent), alignRight: true },
              { header: "EARNED", value: (d: DaySpend) => usd(d.earned), alignRight: true },
            ]),
          );
          printLine();
          return printLine(`spent ${usd(daily.spent)}, earned ${usd(daily.earned)}`);
        }
        const report = await api.costReport();
        if (flags.json) return printJson(report);
        const table = (title: string, lines: CostLine[]) =>
          formatTable(lines, [
            { header: title, value: (l: CostLine) => l.key },
            { header: "RUNS", value: (l: CostLine) => String(l.runs), alignRight: true },
            { header: "GPU-HOURS", value: (l: CostLine) => l.gpuHours.toFixed(4), alignRight: true },
            { header: "COST", value: (l: CostLine) => usd(l.cost), alignRight: true },
          ]);
        printLine(table("PROJECT", report.byProject));
        printLine();
        printLine(table("PROVIDER", report.byProvider));
        printLine();
        printLine(`total ${usd(report.total)}`);
      }),
    );

  program
    .command("credit")
    .description("your credit balance and last ledger entries")
    .option("--json", "print the SDK's CreditResponse as JSON")
    .action(
      action(async (flags: { json?: boolean }) => {
        const credit = await api.creditBalance();
        if (flags.json) return printJson(credit);
        printLine(
          `${credit.userName}: balance ${usd(credit.balance)}${credit.cardBound ? "" : " (no credit granted yet: paid devices are closed)"}`,
        );
        for (const e of credit.ledger)
          printLine(`${formatTime(e.createdTime)}  ${e.kind.padEnd(7)} ${usd(e.amount).padStart(12)}  ${e.note}`);
      }),
    );
}

/** `fedml earnings`: what a provider's devices earned. */
export function registerEarningsCommand(program: Command): void {
  program
    .command("earnings")
    .description("what your devices earned from others' runs and cluster holds, per device")
    .option("--json", "print the SDK's EarningsReport as JSON")
    .action(
      action(async (flags: { json?: boolean }) => {
        const report = await api.earningsReport();
        if (flags.json) return printJson(report);
        if (report.byDevice.length === 0) printNote("your devices have earned nothing yet");
        else
          printLine(
            formatTable(report.byDevice, [
              { header: "DEVICE", value: (e: DeviceEarning) => e.deviceId },
              { header: "NAME", value: (e: DeviceEarning) => e.deviceName ?? "-" },
              { header: "RUNS", value: (e: DeviceEarning) => String(e.runs), alignRight: true },
              { header: "LAST", value: (e: DeviceEarning) => formatTime(e.lastEarnedTime) },
              { header: "EARNED", value: (e: DeviceEarning) => usd(e.earned), alignRight: true },
            ]),
          );
        printLine(`total ${usd(report.total)}`);
      }),
    );
}

/** `fedml offers`: browse what you may run on without writing a job YAML. */
export function registerOffersCommand(program: Command): void {
  program
    .command("offers")
    .description("the devices you may run on now (yours and shared ones), cheapest first")
    .option("--gpu <model>", "only devices with this GPU model (matched as resource_type is: A100 fits A100-SXM4-80GB)")
    .option("--max-price <usd>", "only offers at most this USD per GPU-hour", parseNumber("--max-price"))
    .option("--provider <name>", "only this provider's devices")
    .option("--region <name>", "only devices in this region")
    .option("--json", "print the SDK's object: {offerList}")
    .action(
      action(async (flags: { gpu?: string; maxPrice?: number; provider?: string; region?: string; json?: boolean }) => {
        const result = await api.offerList({
          gpu: flags.gpu,
          maxPrice: flags.maxPrice,
          provider: flags.provider,
          region: flags.region,
        });
        if (flags.json) return printJson(result);
        if (result.offerList.length === 0) printNote("no offer matches");
        else printLine(formatTable(result.offerList, deviceColumns));
      }),
    );
}

/** `fedml user credit NAME AMOUNT` (admin only). */
export function registerUserCreditCommand(user: Command): void {
  user
    .command("credit")
    .description("grant credit (USD) to a user; paid devices open to them")
    .argument("<NAME>", "the user's name")
    .argument("<AMOUNT>", "USD to add", parseNumber("AMOUNT"))
    .option("--json", "print the SDK's CreditResponse as JSON")
    .action(
      action(async (name: string, amount: number, flags: { json?: boolean }) => {
        if (!(amount > 0)) throw new FedmlError(3, `AMOUNT must be above 0, got ${amount}`);
        const credit = await api.userCredit(name, amount);
        if (flags.json) return printJson(credit);
        printLine(`${credit.userName}: balance ${usd(credit.balance)}`);
      }),
    );
}

/** The offers of a dry run as a price-sorted table, then what a launch would do. */
export function printDryRun(result: DryRunResponse): void {
  if (result.offers.length === 0) printNote("no device fits this job");
  else {
    printLine(
      formatTable(result.offers, [
        { header: "ID", value: (o: MatchedOffer) => o.id },
        { header: "NAME", value: (o: MatchedOffer) => `${o.name}${o.simulated ? " (simulated)" : ""}` },
        { header: "PROVIDER", value: (o: MatchedOffer) => o.gpuProvider || "-" },
        { header: "REGION", value: (o: MatchedOffer) => o.gpuRegion || "-" },
        { header: "GPU", value: (o: MatchedOffer) => o.gpuName || "-" },
        { header: "MEM", value: (o: MatchedOffer) => (o.gpuMem ? `${o.gpuMem}G` : "-"), alignRight: true },
        { header: "FREE/TOTAL", value: (o: MatchedOffer) => `${o.gotGpuCount}/${o.totalGpuCount}`, alignRight: true },
        { header: "$/GPU-H", value: (o: MatchedOffer) => o.cost.toFixed(2), alignRight: true },
      ]),
    );
  }
  const names = new Map(result.offers.map((o) => [o.id, o.name]));
  const where = result.placement
    .map((p) => {
      const gpus = p.gpuIndices.length === 0 ? "no GPU" : `GPU ${p.gpuIndices.join(",")}`;
      return `${names.get(p.deviceId) ?? "device"} (device ${p.deviceId}, ${gpus})`;
    })
    .join(" + ");
  printLine(
    result.resultCode === 0
      ? `would run on ${where} at ${usd(result.pricePerHour)}/h`
      : `would answer ${result.resultCode} ${result.resultMsg}`,
  );
}
