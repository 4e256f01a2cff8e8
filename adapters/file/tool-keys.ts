import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import * as z from "../../domain/zod.js";
import type { ToolKey, ToolKeyStore } from "../../lti-tool/ports.js";

const FileSchema = z.object({
  keys: z.array(
    z.object({
      kid: z.string(),
      alg: z.literal("RS256"),
      publicJwk: z.record(z.string(), z.unknown()),
      privateJwk: z.record(z.string(), z.unknown()),
      createdAt: z.string(),
      activeFrom: z.optional(z.string()),
      supersededAt: z.optional(z.string()),
    }),
  ),
  secrets: z.record(z.string(), z.string()),
  /** The first key ever added (addFirstKey): set once. */
  firstKid: z.optional(z.string()),
  /** Epoch ms: administration sessions issued at or before it have ended (AdminSessionStore). */
  adminSessionsValidFrom: z.optional(z.number()),
});
type KeyFile = z.infer<typeof FileSchema>;

/**
 * Local key store: one JSON file, mode 0600, in the git-ignored data folder. Generated on
 * first start; never printed. Only `npm start` and the CLIs use it.
 */
export class FileToolKeyStore implements ToolKeyStore {
  constructor(private readonly path: string) {}

  private read(): KeyFile {
    if (!existsSync(this.path)) return { keys: [], secrets: {} };
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, "utf8"));
    } catch {
      raw = undefined; // empty or cut short: as damaged as a wrong shape
    }
    const parsed = FileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(
        `The key file ${this.path} is damaged. Move it away to generate new keys (platforms must then re-fetch the JWKS).`,
      );
    }
    return parsed.data;
  }

  private write(file: KeyFile): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(file, null, 2), { mode: 0o600 });
    renameSync(tmp, this.path);
    chmodSync(this.path, 0o600);
  }

  async listKeys(): Promise<ToolKey[]> {
    return this.read().keys;
  }
  async addKey(key: ToolKey): Promise<void> {
    const file = this.read();
    file.keys.push(key);
    this.write(file);
  }
  async addFirstKey(key: ToolKey): Promise<boolean> {
    // Read and written with no await between: one process's calls cannot interleave.
    const file = this.read();
    if (file.keys.length > 0 || file.firstKid !== undefined) return false;
    file.keys.push(key);
    file.firstKid = key.kid;
    this.write(file);
    return true;
  }
  async markSuperseded(kid: string, at: string): Promise<void> {
    const file = this.read();
    for (const k of file.keys) if (k.kid === kid) k.supersededAt = at;
    this.write(file);
  }
  async removeKey(kid: string): Promise<void> {
    const file = this.read();
    file.keys = file.keys.filter((k) => k.kid !== kid);
    this.write(file);
  }
  async getOrCreateSecret(name: string, create: () => Uint8Array): Promise<Uint8Array> {
    const file = this.read();
    const existing = file.secrets[name];
    if (existing) return Buffer.from(existing, "base64");
    const value = create();
    file.secrets[name] = Buffer.from(value).toString("base64");
    this.write(file);
    return value;
  }
  async replaceSecret(name: string, value: Uint8Array): Promise<void> {
    const file = this.read();
    file.secrets[name] = Buffer.from(value).toString("base64");
    this.write(file);
  }
  async adminSessionsValidFrom(): Promise<number | undefined> {
    // Read from the file each time: `npm run keys` changes it while `npm start` runs.
    return this.read().adminSessionsValidFrom;
  }
  async endAdminSessions(at: Date): Promise<void> {
    const file = this.read();
    file.adminSessionsValidFrom = Math.max(file.adminSessionsValidFrom ?? at.getTime(), at.getTime());
    this.write(file);
  }
}
