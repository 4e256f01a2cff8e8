/**
 * A counting pass-through proxy in front of DynamoDB Local, for the "where the time goes"
 * pass only (never in the timed runs: the extra hop costs time). It forwards every request
 * unchanged and records the operation (`X-Amz-Target`) and DynamoDB Local's service time
 * (request sent upstream → response received), without the tool knowing. Also used by the
 * test that checks the tool's calls against the IAM actions CDK grants (test/integration/iam).
 */
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

export interface OperationStats {
  count: number;
  samples: number[];
}

export interface ProxiedCall {
  readonly op: string;
  /** The entity of the item: its partition key up to the first `#` (PLATFORM, STATE, NONCE…). */
  readonly entity: string;
  /** performance.now() when the request reached the proxy. */
  readonly at: number;
  readonly ms: number;
  /**
   * The IAM actions the call is authorised by: the operation's own, except for a transaction,
   * which is authorised item by item (a Put in it as PutItem, an Update as UpdateItem…).
   */
  readonly actions: readonly string[];
  /** The entity (up to the first `#`) of every partition key and queried key value in the request. */
  readonly partitions: readonly string[];
}

export interface DynamoProxy {
  readonly endpoint: string;
  stats(): Map<string, OperationStats>;
  /** The calls in arrival order since the last reset (at most 10,000 kept). */
  calls(): readonly ProxiedCall[];
  reset(): void;
  stop(): Promise<void>;
}

export async function startDynamoProxy(upstream: string): Promise<DynamoProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let stats = new Map<string, OperationStats>();
  let calls: ProxiedCall[] = [];
  const server = createServer((req, res) => {
    const op = String(req.headers["x-amz-target"] ?? "unknown").replace(/^DynamoDB_\d+\./, "");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const entity = entityOf(body);
      const started = performance.now();
      const upstreamReq = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
          agent,
        },
        (upstreamRes) => {
          const parts: Buffer[] = [];
          upstreamRes.on("data", (c: Buffer) => parts.push(c));
          upstreamRes.on("end", () => {
            const entry = stats.get(op) ?? { count: 0, samples: [] };
            entry.count++;
            const ms = performance.now() - started;
            entry.samples.push(ms);
            stats.set(op, entry);
            if (calls.length < 10_000) {
              calls.push({
                op,
                entity,
                at: started,
                ms,
                actions: actionsOf(op, body),
                partitions: partitionsOf(body),
              });
            }
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            res.end(Buffer.concat(parts));
          });
        },
      );
      upstreamReq.on("error", (error) => {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(String(error));
      });
      upstreamReq.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => stats,
    calls: () => calls,
    reset: () => {
      stats = new Map();
      calls = [];
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

const TRANSACT_ACTIONS: Record<string, string> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
  Get: "GetItem",
};

function actionsOf(op: string, body: Buffer): string[] {
  if (op !== "TransactWriteItems" && op !== "TransactGetItems") return [op];
  const items = (JSON.parse(body.toString("utf8")) as { TransactItems?: Record<string, unknown>[] })
    .TransactItems;
  return [
    ...new Set((items ?? []).flatMap((item) => Object.keys(item).map((k) => TRANSACT_ACTIONS[k] ?? k))),
  ];
}

function partitionsOf(body: Buffer): string[] {
  // Keys (`pk`) and the key values of queries (`:pk`, `:gpk`, as the adapters name them).
  const found = body.toString("utf8").matchAll(/"(?:pk|:pk|:gpk)"\s*:\s*\{\s*"S"\s*:\s*"([^"#]*)/g);
  return [...new Set([...found].map((m) => m[1] ?? "?"))];
}

/** The first partition key in a request (Key, Item or the first transact item), up to its first `#`. */
function entityOf(body: Buffer): string {
  const match = /"pk"\s*:\s*\{\s*"S"\s*:\s*"([^"#]*)/.exec(body.toString("utf8"));
  return match?.[1] ?? "?";
}
