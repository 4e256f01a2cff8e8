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
