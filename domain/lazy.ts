/**
 * A value built on its first use rather than at import, then kept: the web Lambda's cold start
 * pays for everything its bundle builds at import, so what no launch uses waits until it is
 * asked for. Call the returned function for the value; it is built once.
 */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}
