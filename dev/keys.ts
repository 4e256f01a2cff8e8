/**
 * The tool's signing keys, locally:
 *   npm run keys -- rotate   publish a new key beside the current one and sign with it
 *   npm run keys -- list     show kids and dates (never the private keys)
 */
import { join } from "node:path";
import { FileToolKeyStore } from "../adapters/file/tool-keys.js";
import { StoredKeySigner } from "../lti-tool/tool-keys.js";
import { DATA_DIR } from "./runtime-file.js";

const store = new FileToolKeyStore(join(DATA_DIR, "keys", "tool-keys.json"));
const command = process.argv[2] ?? "list";
if (command === "rotate") {
  const signer = new StoredKeySigner(store);
  const result = await signer.rotate();
  console.log(`New signing key ${result.current.kid}. Published: ${result.published.join(", ")}.`);
  if (result.removed.length) console.log(`No longer published: ${result.removed.join(", ")}.`);
  console.log("A running `npm start` picks the new key up within a minute.");
} else if (command === "list") {
  for (const k of await store.listKeys()) {
    console.log(
      `${k.kid}  created ${k.createdAt}${k.supersededAt ? `  superseded ${k.supersededAt}` : "  (signing)"}`,
    );
  }
} else {
  console.error("Usage: npm run keys -- rotate | list");
  process.exitCode = 2;
}
