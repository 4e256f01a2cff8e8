import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";

/** Every page of a query (bounded), or until `maxItems` items are in hand. */
export async function queryAll(
  doc: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, "ExclusiveStartKey">,
  options: { maxItems?: number; maxPages?: number } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const maxItems = options.maxItems ?? Number.POSITIVE_INFINITY;
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < (options.maxPages ?? 1_000); page++) {
    const out = await doc.send(
      new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
    if (!start || items.length >= maxItems) break;
  }
  return items.length > maxItems ? items.slice(0, maxItems) : items;
}
