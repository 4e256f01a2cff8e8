/**
 * The ltijs baseline on loopback, for the launch benchmark: the same setup as handler.ts
 * (serverless mode, in-memory plugin), its Express app served by node:http on 127.0.0.1.
 * Forked by bench/run.ts, which registers the development platform through ltijs's own
 * `registerPlatform`; run alone (`npx tsx bench/ltijs/server.ts`) it just serves.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { failStart, serveParent } from "../lib/child-tool.js";
import { ltijsPlatform, setupLtijsTool } from "./tool.js";

try {
  const { lti } = await setupLtijsTool(process.env.LTIJS_ENCRYPTION_KEY);
  const server = createServer(lti.app);
  server.keepAliveTimeout = 5_000;
  const port = Number(process.env.PORT ?? 0);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  serveParent({
    url,
    // ltijs generates a 4096-bit RSA key pair for each platform it registers (≈1–3 s).
    register: async (registration) => {
      await lti.registerPlatform(ltijsPlatform(registration));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
} catch (error) {
  failStart(error);
}
