/** The daemon writes one timestamped line per event to stdout (redirected to agent.log). */
export type Logger = (message: string) => void;

export const consoleLogger: Logger = (message) => {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
};

export const silentLogger: Logger = () => {};
