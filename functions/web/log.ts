/**
 * Structured JSON logs (one line each, CloudWatch-friendly). Callers pass fields, never
 * tokens or secrets; `redact` drops the well-known sensitive names as a second line of defence.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const SENSITIVE = /^(id_token|token|jwt|password|secret|authorization|cookie|privateJwk|credentials?|s)$/i;

/** Characters of one string a log line keeps: a value from a request (a token's kid) is the sender's to size. */
const MAX_LOGGED_TEXT = 1000;

function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string" && value.length > MAX_LOGGED_TEXT) {
    return `${value.slice(0, MAX_LOGGED_TEXT)}… (${value.length} characters)`;
  }
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redact(value.message, depth + 1),
      ...(value.cause ? { cause: redact(value.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SENSITIVE.test(k) ? "[redacted]" : redact(v, depth + 1)]),
  );
}

export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(
      JSON.stringify({ level, time: new Date().toISOString(), message, ...(redact(fields ?? {}) as object) }),
    );
  return {
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
