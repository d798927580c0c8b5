/**
 * `fedml-server`'s settings for an S3-compatible workspace store. The secret access key is
 * read from the environment or a file only: a flag would show it to anyone who lists processes.
 */
import { ServerCliError, type SettingSource } from "./cli-setting.js";
import { Secret, type S3Settings } from "./workspaces/s3-settings.js";

export const S3_SECRET_ENV = "FEDML_S3_SECRET_ACCESS_KEY";

function s3Setting(name: string, help: string): SettingSource {
  const words = name.split("-");
  return {
    flag: `s3-${name}`,
    env: `FEDML_S3_${words.join("_").toUpperCase()}`,
    key: `s3${words.map((w) => w[0].toUpperCase() + w.slice(1)).join("")}`,
    help,
  };
}

const BUCKET = s3Setting("bucket", "keep workspaces in this S3-compatible bucket instead of the database");
const ENDPOINT = s3Setting("endpoint", "the S3 store's URL, http(s)://host:port (default: AWS S3 in --s3-region)");
const REGION = s3Setting("region", "the bucket's region (default us-east-1)");
const PREFIX = s3Setting("prefix", "prepended to every object key (default workspaces/)");
const PATH_STYLE = s3Setting("path-style", "true: address objects as ENDPOINT/BUCKET/KEY (MinIO, Ceph, ...; default false)");
const KEY_ID = s3Setting("access-key-id", "the S3 access key id (default: the AWS SDK's own chain)");
const SECRET_FILE = s3Setting("secret-access-key-file", `a file holding the S3 secret access key (or set ${S3_SECRET_ENV})`);

export const S3_SETTINGS: readonly SettingSource[] = [BUCKET, ENDPOINT, REGION, PREFIX, PATH_STYLE, KEY_ID, SECRET_FILE];

type LookUp = (setting: SettingSource) => { raw: unknown; source: string };

/** The S3 store's settings, or undefined when no bucket is named (the database keeps workspaces). */
export function s3SettingsFrom(
  lookUp: LookUp,
  secretFromEnv: string | undefined,
  readSecretFile: (path: string) => string,
): S3Settings | undefined {
  const text = (setting: SettingSource) => {
    const { raw } = lookUp(setting);
    return raw === undefined || raw === "" ? undefined : String(raw);
  };
  const bucket = text(BUCKET);
  if (bucket === undefined) {
    const stray = S3_SETTINGS.find((s) => text(s) !== undefined);
    if (stray) throw new ServerCliError(`${lookUp(stray).source} needs --s3-bucket (${BUCKET.env}) as well`);
    return undefined;
  }
  const endpoint = text(ENDPOINT);
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/i.test(endpoint)) {
    throw new ServerCliError(`${lookUp(ENDPOINT).source} must be http(s)://host[:port], not ${JSON.stringify(endpoint)}`);
  }
  const pathStyle = text(PATH_STYLE) ?? "false";
  if (pathStyle !== "true" && pathStyle !== "false") {
    throw new ServerCliError(`${lookUp(PATH_STYLE).source} must be true or false, not ${JSON.stringify(pathStyle)}`);
  }
  const secretFile = text(SECRET_FILE);
  if (secretFile !== undefined && secretFromEnv !== undefined) {
    throw new ServerCliError(`set ${S3_SECRET_ENV} or ${lookUp(SECRET_FILE).source}, not both`);
  }
  const secret = secretFile !== undefined ? readSecretFile(secretFile).trim() : secretFromEnv;
  const accessKeyId = text(KEY_ID);
  if ((accessKeyId === undefined) !== (secret === undefined)) {
    throw new ServerCliError(
      accessKeyId === undefined
        ? `an S3 secret access key needs --s3-access-key-id (${KEY_ID.env}) as well`
        : `${lookUp(KEY_ID).source} needs the secret access key: set ${S3_SECRET_ENV} or --s3-secret-access-key-file`,
    );
  }
  if (secret === "") throw new ServerCliError(`the S3 secret access key in ${secretFile} is empty`);
  return {
    bucket,
    endpoint: endpoint?.replace(/\/$/, ""),
    region: text(REGION) ?? "us-east-1",
    prefix: text(PREFIX) ?? "workspaces/",
    pathStyle: pathStyle === "true",
    accessKeyId,
    secretAccessKey: secret === undefined ? undefined : new Secret(secret),
  };
}
