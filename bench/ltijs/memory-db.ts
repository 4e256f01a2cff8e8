/**
 * An in-memory database plugin for ltijs 5.9.9 (the benchmark baseline).
 *
 * ltijs takes a plugin through `lti.setup(key, { plugin })` and then calls exactly these
 * methods on it (read from node_modules/ltijs/dist: Provider.js, Utils/Auth.js,
 * Utils/Platform.js, Utils/Keyset.js, Provider/Services/*.js):
 *
 *   setup()                                         once, from `deploy()`
 *   Close()                                         from `close()`
 *   Get(ENCRYPTIONKEY | false, collection, query?)  → matching items, or `false` when none
 *   Insert(ENCRYPTIONKEY | false, collection, item, index?)
 *   Replace(ENCRYPTIONKEY | false, collection, query, item, index?)   (upsert)
 *   Modify(ENCRYPTIONKEY | false, collection, query, modification)
 *   Delete(collection, query)
 *
 * With an ENCRYPTIONKEY (tool key pairs, access tokens) the item is stored encrypted beside
 * its `index` fields, as ltijs's own MongoDB class does (AES-256-CBC with the SHA-256 of the
 * key), and decrypted on read. Items expire after the TTLs of ltijs's mongoose schemas
 * (nonce 10 s, state 10 min, id/context tokens 24 h, access tokens 1 h); expired items are
 * ignored on read and swept on write, like MongoDB's TTL index.
 *
 * `setup()` never fails: ltijs answers a failed database setup with `process.exit()`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

type Item = Record<string, unknown>;

interface Stored {
  doc: Item;
  createdAt: number;
}

/** Seconds, from the `expires` of each schema in ltijs's Utils/Database.js. */
const TTL_SECONDS: Readonly<Record<string, number>> = {
  idtoken: 24 * 3600,
  contexttoken: 24 * 3600,
  accesstoken: 3600,
  nonce: 10,
  state: 600,
};

const SWEEP_EVERY_MS = 1_000;

export class MemoryDatabase {
  private readonly collections = new Map<string, Stored[]>();
  private readonly lastSweep = new Map<string, number>();
  private deployed = false;
  /** Calls per method, for the benchmark's notes. */
  readonly calls: Record<string, number> = {};

  constructor(private readonly now: () => number = Date.now) {}

  async setup(): Promise<boolean> {
    this.deployed = true;
    return true;
  }

  async Close(): Promise<boolean> {
    this.deployed = false;
    return true;
  }

  async Get(encryptionKey: string | false, collection: string, query?: Item): Promise<Item[] | false> {
    this.count("Get");
    this.assertDeployed(collection);
    const found = this.live(collection).filter((s) => matches(s.doc, query));
    if (found.length === 0) return false;
    return Promise.all(
      found.map(async (s) => {
        if (!encryptionKey) return structuredClone(s.doc);
        const plain = JSON.parse(await this.Decrypt(String(s.doc.data), String(s.doc.iv), encryptionKey));
        return { ...plain, createdAt: s.createdAt };
      }),
    );
  }

  async Insert(
    encryptionKey: string | false,
    collection: string,
    item: Item,
    index?: Item,
  ): Promise<boolean> {
    this.count("Insert");
    this.assertDeployed(collection);
    if (!collection || !item || (encryptionKey && !index)) throw new Error("MISSING_PARAMS");
    const doc = await this.toStored(encryptionKey, item, index);
    this.rows(collection).push({ doc, createdAt: this.now() });
    this.sweep(collection);
    return true;
  }

  async Replace(
    encryptionKey: string | false,
    collection: string,
    query: Item,
    item: Item,
    index?: Item,
  ): Promise<boolean> {
    this.count("Replace");
    this.assertDeployed(collection);
    if (!collection || !item || (encryptionKey && !index)) throw new Error("MISSING_PARAMS");
    const doc = await this.toStored(encryptionKey, item, index);
    const rows = this.rows(collection);
    const at = rows.findIndex((s) => !this.expired(collection, s) && matches(s.doc, query));
    // MongoDB's replaceOne with upsert: the first match is replaced, or the item inserted.
    if (at >= 0) rows[at] = { doc, createdAt: this.now() };
    else rows.push({ doc, createdAt: this.now() });
    this.sweep(collection);
    return true;
  }

  async Modify(
    encryptionKey: string | false,
    collection: string,
    query: Item,
    modification: Item,
  ): Promise<boolean> {
    this.count("Modify");
    this.assertDeployed(collection);
    if (!collection || !query || !modification) throw new Error("MISSING_PARAMS");
    const row = this.live(collection).find((s) => matches(s.doc, query));
    if (!row) return true; // updateOne without a match changes nothing
    if (encryptionKey) {
      // As ltijs's MongoDB class: decrypt, set the first modified field, encrypt again.
      const plain = JSON.parse(await this.Decrypt(String(row.doc.data), String(row.doc.iv), encryptionKey));
      const [key, value] = Object.entries(modification)[0] ?? [];
      if (key !== undefined) plain[key] = value;
      Object.assign(row.doc, await this.Encrypt(JSON.stringify(plain), encryptionKey));
    } else {
      Object.assign(row.doc, structuredClone(modification));
    }
    return true;
  }

  async Delete(collection: string, query: Item): Promise<boolean> {
    this.count("Delete");
    this.assertDeployed(collection);
    if (!collection || !query) throw new Error("MISSING_PARAMS");
    const rows = this.rows(collection);
    this.collections.set(
      collection,
      rows.filter((s) => !matches(s.doc, query)),
    );
    return true;
  }

  async Encrypt(data: string, secret: string): Promise<{ iv: string; data: string }> {
    const iv = randomBytes(16);
    const cipher = createCipheriv("aes-256-cbc", keyOf(secret), iv);
    const encrypted = Buffer.concat([cipher.update(data), cipher.final()]);
    return { iv: iv.toString("hex"), data: encrypted.toString("hex") };
  }

  async Decrypt(data: string, iv: string, secret: string): Promise<string> {
    const decipher = createDecipheriv("aes-256-cbc", keyOf(secret), Buffer.from(iv, "hex"));
    return Buffer.concat([decipher.update(Buffer.from(data, "hex")), decipher.final()]).toString();
  }

  /** Items per collection (live ones), for the benchmark's notes. */
  sizes(): Record<string, number> {
    return Object.fromEntries([...this.collections.keys()].map((c) => [c, this.live(c).length]));
  }

  private async toStored(encryptionKey: string | false, item: Item, index?: Item): Promise<Item> {
    if (!encryptionKey) return structuredClone(item);
    return { ...index, ...(await this.Encrypt(JSON.stringify(item), encryptionKey)) };
  }

  private rows(collection: string): Stored[] {
    let rows = this.collections.get(collection);
    if (!rows) {
      rows = [];
      this.collections.set(collection, rows);
    }
    return rows;
  }

  private live(collection: string): Stored[] {
    return this.rows(collection).filter((s) => !this.expired(collection, s));
  }

  private expired(collection: string, s: Stored): boolean {
    const ttl = TTL_SECONDS[collection];
    return ttl !== undefined && this.now() - s.createdAt > ttl * 1000;
  }

  /** Drops expired items at most once a second per collection (MongoDB's TTL monitor runs every 60 s). */
  private sweep(collection: string): void {
    if (TTL_SECONDS[collection] === undefined) return;
    const now = this.now();
    if (now - (this.lastSweep.get(collection) ?? 0) < SWEEP_EVERY_MS) return;
    this.lastSweep.set(collection, now);
    this.collections.set(collection, this.live(collection));
  }

  private assertDeployed(collection: string): void {
    if (!this.deployed) throw new Error("PROVIDER_NOT_DEPLOYED");
    if (!collection) throw new Error("MISSING_COLLECTION");
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }
}

/** MongoDB equality match on top-level fields; an undefined query value matches anything (mongoose drops it). */
function matches(doc: Item, query: Item | undefined): boolean {
  if (!query) return true;
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (doc[key] !== value) return false;
  }
  return true;
}

function keyOf(secret: string): Buffer {
  return createHash("sha256").update(secret).digest().subarray(0, 32);
}
