import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { infraConfigFrom } from "../../../infra/config.js";

// The runtime file says which local tool is running; DATA_DIR is read when the module loads.
const dir = mkdtempSync(join(tmpdir(), "hlta-runtime-"));
process.env.HLTA_DATA_DIR = dir;
const { deployedRegion, readRuntimeFile, removeRuntimeFile, writeRuntimeFile } = await import(
  "../../../dev/runtime-file.js"
);
const file = join(dir, "runtime.json");
const info = (pid: number) => ({
  pid,
  dynamoEndpoint: "http://127.0.0.1:1",
  s3Endpoint: "http://127.0.0.1:2",
  tableName: "t",
  bucketName: "b",
  toolUrl: "http://127.0.0.1:8787",
});

describe("the local tool's runtime file", () => {
  it("is left alone by a process that did not write it (a second npm start that failed)", () => {
    // The parent process is alive and is not this one: another running instance.
    writeRuntimeFile(info(process.ppid));
    removeRuntimeFile();
    expect(readRuntimeFile()?.pid).toBe(process.ppid);
    writeRuntimeFile(info(process.pid));
    removeRuntimeFile();
    expect(readRuntimeFile()).toBeUndefined();
  });

  it("reads a damaged file as no running tool, instead of failing every command", () => {
    writeFileSync(file, "{garbage");
    expect(readRuntimeFile()).toBeUndefined();
    expect(readFileSync(file, "utf8")).toBe("{garbage");
  });
});

describe("the region of a deployed table, for the CLIs' --table", () => {
  it("is where the stack was deployed: HLTA_REGION, else London, whatever AWS_REGION says", () => {
    expect(deployedRegion({ HLTA_REGION: "eu-west-1", AWS_REGION: "us-east-1" })).toBe("eu-west-1");
    expect(deployedRegion({ AWS_REGION: "eu-central-1" })).toBe("eu-west-2");
    expect(deployedRegion({ AWS_REGION: "eu-central-1" })).toBe(
      infraConfigFrom({ AWS_REGION: "eu-central-1" }).region,
    );
    expect(deployedRegion({})).toBe("eu-west-2");
    expect(() => deployedRegion({ HLTA_REGION: "London" })).toThrow(/HLTA_REGION must be an AWS region/);
  });
});
