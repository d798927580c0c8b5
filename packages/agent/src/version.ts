/** Reported in the device facts; kept in step with package.json by hand (no JSON import at run time). */
export const AGENT_VERSION = "0.1.0";
