import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";

/**
 * The pages of a query, in order, at most `maxPages`; each page's `Limit` is `limit()` when given
 * (asked before each page, so a reader can ask for what it still lacks). The reader stops early by
 * leaving its `for await` loop.
 */
export async function* queryPages(
  doc: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, "ExclusiveStartKey">,
  options: { maxPages?: number; limit?: () => number } = {},
): AsyncGenerator<Record<string, unknown>[]> {
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < (options.maxPages ?? 1_000); page++) {
    const limit = options.limit?.();
    const out = await doc.send(
      new QueryCommand({
        ...input,
        ...(limit !== undefined ? { Limit: limit } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    yield out.Items ?? [];
    start = out.LastEvaluatedKey;
    if (!start) return;
  }
}

/** Every page of a query (bounded), or until `maxItems` items are in hand. */
export async function queryAll(
  doc: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, "ExclusiveStartKey">,
  options: { maxItems?: number; maxPages?: number } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const maxItems = options.maxItems ?? Number.POSITIVE_INFINITY;
  for await (const page of queryPages(
    doc,
    input,
    options.maxPages !== undefined ? { maxPages: options.maxPages } : {},
  )) {
    items.push(...page);
    if (items.length >= maxItems) break;
  }
  return items.length > maxItems ? items.slice(0, maxItems) : items;
}
