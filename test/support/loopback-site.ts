import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A scripted web site on loopback: `handle` answers, `seen` records every request it got. */
export interface Site {
  url: string;
  seen: { method: string; path: string; authorization?: string; body: string }[];
  handle: Handler;
  stop(): Promise<void>;
}

export async function site(): Promise<Site> {
  const seen: Site["seen"] = [];
  const s: Site = {
    url: "",
    seen,
    handle: (_req, _body, res) => res.writeHead(404).end(),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({
        method: req.method ?? "",
        path: req.url ?? "",
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        body,
      });
      s.handle(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return s;
}

/** Answer JSON with a status and extra headers. */
export const json = (
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
) => res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));
