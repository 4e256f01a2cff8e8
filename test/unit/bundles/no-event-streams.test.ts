import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as real from "@smithy/core/event-streams";
import { afterAll, describe, expect, it } from "vitest";
import * as stub from "../../../functions/no-event-streams.js";
import { lambdaBundle } from "../../support/lambda-bundle.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const EVENT_STREAMS_SOURCES = "node_modules/@smithy/core/dist-es/submodules/event-streams/";

describe("the event-streams stand-in (functions/no-event-streams.ts)", () => {
  it("fills in a client's config as the real module does, with a marshaller that refuses", () => {
    const made: unknown[] = [];
    const marker = { serialize: () => "s", deserialize: () => "d" };
    type Provider = Parameters<typeof real.resolveEventStreamSerdeConfig>[0]["eventStreamSerdeProvider"];
    const provider = ((input: unknown) => {
      made.push(input);
      return marker;
    }) as unknown as Provider;
    const withReal = real.resolveEventStreamSerdeConfig({
      region: "eu-west-2",
      eventStreamSerdeProvider: provider,
    });
    const withStub = stub.resolveEventStreamSerdeConfig({
      region: "eu-west-2",
      eventStreamSerdeProvider: provider,
    });
    expect(Object.keys(withStub).sort()).toEqual(Object.keys(withReal).sort());
    expect(withReal.eventStreamMarshaller).toBe(marker);
    expect(withStub.eventStreamMarshaller).toBe(marker);
    // Each called the provider once, with the config it fills in.
    expect(made).toEqual([withReal, withStub]);

    const marshaller = stub.eventStreamSerdeProvider({});
    expect(() => marshaller.serialize()).toThrow(stub.EventStreamsNotBundledError);
    expect(() => marshaller.deserialize()).toThrow(stub.EventStreamsNotBundledError);
    expect(() => new stub.EventStreamSerde({})).toThrow(stub.EventStreamsNotBundledError);
  });

  it("exports every name the installed SDK takes from the module, statically or by dynamic import", () => {
    // esbuild checks static imports against the stand-in, but not what a dynamic import destructures.
    const taken = new Map<string, string[]>();
    for (const dir of ["node_modules/@smithy", "node_modules/@aws-sdk"]) {
      for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !entry.name.endsWith(".js") || !entry.parentPath.includes("dist-es")) continue;
        const file = join(entry.parentPath, entry.name);
        const text = readFileSync(file, "utf8");
        if (!text.includes("@smithy/core/event-streams")) continue;
        const lists = [
          ...text.matchAll(/import\s*\{([^{}]*)\}\s*from\s*["']@smithy\/core\/event-streams["']/g),
          ...text.matchAll(
            /\{([^{}]*)\}\s*=\s*await\s+import\(\s*["']@smithy\/core\/event-streams["']\s*\)/g,
          ),
        ];
        const names = lists.flatMap((m) =>
          (m[1] ?? "")
            .split(",")
            .map((n) => n.trim().split(/\s+as\s+|\s*:\s*/)[0] ?? "")
            .filter(Boolean),
        );
        if (names.length) taken.set(file.slice(ROOT.length + 1), names);
      }
    }
    // The protocol's dynamic import is among them: the scan finds what it looks for.
    expect([...taken.keys()].some((f) => f.endsWith("protocols/HttpProtocol.js"))).toBe(true);
    const missing = [...taken].flatMap(([file, names]) =>
      names.filter((n) => !(n in stub)).map((n) => `${n} (${file})`),
    );
    expect(missing).toEqual([]);
  });

  it("keeps the real module out of the web bundle, and no module of it initialised lazily", async () => {
    const result = await lambdaBundle({ entry: "functions/web/handler.ts" });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("functions/no-event-streams.ts");
    expect(inputs.filter((p) => p.startsWith(EVENT_STREAMS_SOURCES))).toEqual([]);
    // The SDK's dynamic import of the module made esbuild wrap every @smithy/core module it shares
    // in a lazy initialiser (157 of them); now only the stand-in itself is one.
    const text = result.outputFiles?.[0]?.text ?? "";
    const lazy = [...text.matchAll(/var (init_\w+) = __esm\(/g)].map((m) => m[1]);
    expect(lazy).toEqual(["init_no_event_streams"]);
  });

  describe("in a bundle with the S3 client, which imports the module statically", () => {
    const dir = mkdtempSync(join(tmpdir(), "hlta-no-event-streams-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("builds, constructs the client, and refuses only an event stream", async () => {
      const outfile = join(dir, "s3.mjs");
      const result = await lambdaBundle({
        source:
          'import { S3Client } from "@aws-sdk/client-s3";\n' +
          'export const client = new S3Client({ region: "eu-west-2", endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: "a", secretAccessKey: "b" } });\n',
        outfile,
      });
      expect(Object.keys(result.metafile.inputs).filter((p) => p.startsWith(EVENT_STREAMS_SOURCES))).toEqual(
        [],
      );
      const { client } = (await import(pathToFileURL(outfile).href)) as {
        client: { config: { eventStreamMarshaller: { deserialize: () => unknown } } };
      };
      expect(() => client.config.eventStreamMarshaller.deserialize()).toThrow(
        expect.objectContaining({ name: "EventStreamsNotBundledError" }),
      );
    });
  });
});
