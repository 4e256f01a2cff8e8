/**
 * A pass-through proxy in front of DynamoDB Local that records every request's body as sent,
 * and the IAM requests (test/infra/iam-model.ts) each one is authorised as: its action per item
 * and `dynamodb:LeadingKeys`, the full partition key values (not only their entity), the
 * queried key value of a Query whatever its placeholders are called.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import type { TableRequest } from "../../infra/iam-model.js";

export interface RawCall {
  /** The operation, from X-Amz-Target (GetItem, Query, TransactWriteItems…). */
  op: string;
  body: Record<string, unknown>;
}

type AV = { S?: string };
type Item = Record<string, AV>;
/** The JSON of a DynamoDB request, as far as these requests go. */
interface Body {
  Key?: Item;
  Item?: Item;
  IndexName?: string;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AV>;
  RequestItems?: Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>;
  TransactItems?: Record<string, { Item?: Item; Key?: Item }>[];
}

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
};

/** The table's partition key of an item or key; undefined when it has none (never for these tables). */
const pkOf = (item: Item | undefined): string[] => (item?.pk?.S !== undefined ? [item.pk.S] : []);

/**
 * The IAM requests one API call is authorised as (a transaction: one per item). An operation
 * not modelled here, or a key not found, gives no leading keys: the checks refuse it.
 */
export function authRequests(call: RawCall): TableRequest[] {
  const b = call.body as Body;
  switch (call.op) {
    case "GetItem":
    case "UpdateItem":
    case "DeleteItem":
      return [{ action: call.op, index: false, leadingKeys: pkOf(b.Key) }];
    case "PutItem":
      return [{ action: call.op, index: false, leadingKeys: pkOf(b.Item) }];
    case "BatchWriteItem": {
      const reqs = Object.values(b.RequestItems ?? {}).flat();
      return [
        {
          action: "BatchWriteItem",
          index: false,
          leadingKeys: reqs.flatMap((r) => pkOf(r.PutRequest?.Item ?? r.DeleteRequest?.Key)),
        },
      ];
    }
    case "TransactWriteItems":
      return (b.TransactItems ?? []).flatMap((t) =>
        Object.entries(t).map(([k, v]) => ({
          action: TRANSACT_ACTIONS[k] ?? k,
          index: false,
          leadingKeys: pkOf(v.Item ?? v.Key),
        })),
      );
    case "Query": {
      // Only gsi1 exists: its partition key is gsi1pk, the table's pk.
      const hash = b.IndexName ? "gsi1pk" : "pk";
      const names = b.ExpressionAttributeNames ?? {};
      const values = b.ExpressionAttributeValues ?? {};
      const keys: string[] = [];
      for (const m of String(b.KeyConditionExpression).matchAll(
        /(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/g,
      )) {
        const name = m[1]?.startsWith("#") ? names[m[1]] : m[1];
        const value = values[m[2] ?? ""]?.S;
        if (name === hash && value !== undefined) keys.push(value);
      }
      return [{ action: "Query", index: Boolean(b.IndexName), leadingKeys: keys }];
    }
    default:
      return [{ action: call.op, index: false, leadingKeys: [] }];
  }
}

export interface CallRecorder {
  readonly endpoint: string;
  /** The calls since the last reset, in arrival order. */
  calls(): readonly RawCall[];
  reset(): void;
  stop(): Promise<void>;
}

export async function startRecorder(upstream: string): Promise<CallRecorder> {
  const target = new URL(upstream);
  let calls: RawCall[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const op = String(req.headers["x-amz-target"] ?? "").replace(/^DynamoDB_\d+\./, "");
      try {
        calls.push({ op, body: JSON.parse(body.toString("utf8") || "{}") });
      } catch {
        calls.push({ op, body: {} });
      }
      const up = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on("error", (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    reset: () => {
      calls = [];
    },
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
