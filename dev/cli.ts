/**
 * What the local commands (`npm run register`, `links`, `keys`, `lrs`) share: their flags,
 * parsed strictly, with --help.
 */

/**
 * The command's parsed flags, or the exit code when there is nothing more to do: 2 after a
 * mistake in the flags (the sentence naming the flag, then the usage), 0 after --help.
 */
export function parsedFlags<T extends { values: { help?: boolean | undefined } }>(
  parse: () => T,
  usage: string,
): T | number {
  let parsed: T;
  try {
    parsed = parse();
  } catch (error) {
    // parseArgs's first sentence names the flag; the rest is about positionals.
    console.error(`${(error as Error).message.split(". ")[0]}.\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  return parsed;
}

/**
 * The command (the first positional) when it is one of `commands`; otherwise exit code 2, with
 * what was wrong ("Unknown command …" or "Say what to do.") and the usage said.
 */
export function commandOf<C extends string>(
  positionals: readonly string[],
  commands: readonly C[],
  usage: string,
): C | number {
  const command = positionals[0];
  const known = commands.find((c) => c === command);
  if (known !== undefined) return known;
  console.error(`${command ? `Unknown command "${command}".` : "Say what to do."}\n${usage}`);
  return 2;
}

/**
 * What went wrong, in plain words, for a command's "Not done: …". The AWS SDK's wording is kept
 * only for what it alone can say; what an administrator can fix is said as what to do.
 */
export function cliErrorMessage(error: unknown): string {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const message = typeof e.message === "string" ? e.message : String(error);
  if (e.name === "CredentialsProviderError" || message.startsWith("Could not load credentials")) {
    return "no AWS credentials were found for --table: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for the stack's account.";
  }
  if (e.name === "ResourceNotFoundException") {
    return "there is no such table in the stack's region (HLTA_REGION, else eu-west-2): check --table against the stack's TableName output.";
  }
  if (e.name === "UnrecognizedClientException" || e.name === "ExpiredTokenException") {
    return `AWS refused the credentials (${String(e.name)}): sign in again, or check AWS_PROFILE.`;
  }
  if (e.name === "AccessDeniedException") {
    return "AWS refused the call: the credentials in use may not read or write the stack's table.";
  }
  return message;
}
