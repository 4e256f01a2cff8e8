import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback proxy in front of DynamoDB Local that loses answers: the first call of each named
 * operation (`PutItem`, `TransactWriteItems`, …) reaches DynamoDB Local and runs there, but the
 * client gets a 500 InternalServerError instead of its answer, as when a response is lost on
 * the way back. The SDK then retries the same request. Every other call passes through.
 */
export async function lostAnswerProxy(dynamoEndpoint: string, operations: readonly string[]) {
  const target = new URL(dynamoEndpoint);
  const toLose = new Set(operations.map((op) => `DynamoDB_20120810.${op}`));
  /** Every call the proxy saw, in order, with the status the client got. */
  const calls: { operation: string; status: number }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const operation = String(req.headers["x-amz-target"] ?? "").replace("DynamoDB_20120810.", "");
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => body.push(chunk));
          answer.on("end", () => {
            if (toLose.delete(`DynamoDB_20120810.${operation}`)) {
              calls.push({ operation, status: 500 });
              res.writeHead(500, { "content-type": "application/x-amz-json-1.0" });
              res.end(
                JSON.stringify({
                  __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
                  message: "The answer was lost on the way back (test proxy).",
                }),
              );
              return;
            }
            calls.push({ operation, status: answer.statusCode ?? 0 });
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      upstream.on("error", () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
