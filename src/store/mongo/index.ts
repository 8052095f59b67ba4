import { MongoClient, MongoServerError, type ClientSession, type Db, type Document } from 'mongodb';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { COLLECTION_NAMES, COLLECTIONS, type CollectionSpec } from '../collections.ts';
import {
  DuplicateKeyError, type Change, type Collection, type DurableEntities, type DurableStore, type Filter, type Page, type Transaction, type TransactionWriter,
} from '../ports.ts';

const MONGO_OPERATOR = { set: '$set', inc: '$inc' } as const;

/** A port change as a MongoDB update document. */
function toUpdate<T>(change: Change<T>): Document {
  const update: Document = {};
  for (const operation of ['set', 'inc'] as const) {
    if (change[operation] && Object.keys(change[operation]).length) update[MONGO_OPERATOR[operation]] = change[operation];
  }
  if (change.unset?.length) update.$unset = Object.fromEntries(change.unset.map((field) => [field, '']));
  const each = (values: object) => Object.fromEntries(Object.entries(values).map(([field, list]) => [field, { $each: list }]));
  const all = (values: object) => Object.fromEntries(Object.entries(values).map(([field, list]) => [field, { $in: list }]));
  if (change.addToSet && Object.keys(change.addToSet).length) update.$addToSet = each(change.addToSet);
  if (change.pull && Object.keys(change.pull).length) update.$pull = all(change.pull);
  return update;
}

/**
 * Kept deliberately thin: each call maps to one driver call, so that the shared contract suite is a faithful check
 * of it whenever MONGODB_URI is set.
 */
class MongoCollection<T> implements Collection<T> {
  private readonly db: Db;
  private readonly spec: CollectionSpec<T>;
  constructor(db: Db, spec: CollectionSpec<T>) {
    this.db = db;
    this.spec = spec;
  }

  get collection() {
    return this.db.collection<Document>(this.spec.name);
  }

  async ensureIndexes(): Promise<void> {
    for (const fields of this.spec.unique) {
      await this.collection.createIndex(Object.fromEntries(fields.map((f) => [f, 1])), {
        unique: true,
        name: `unique_${fields.join('_')}`,
        partialFilterExpression: Object.fromEntries(fields.map((f) => [f, { $exists: true }])),
      });
    }
    for (const field of this.spec.indexed) await this.collection.createIndex({ [field]: 1 });
  }

  private fromDb(doc: Document | null): T | undefined {
    if (!doc) return undefined;
    const { _id: _ignored, ...rest } = doc;
    return rest as T;
  }

  toDb(doc: T): Document {
    return { _id: (doc as Document)[this.spec.key], ...(doc as Document) };
  }

  /** Runs a write, turning a duplicate-key error into the port's DuplicateKeyError. */
  async write<R>(action: () => Promise<R>): Promise<R> {
    try {
      return await action();
    } catch (err) {
      if (err instanceof MongoServerError && err.code === 11000) {
        throw new DuplicateKeyError(this.spec.name, Object.keys(err.keyPattern ?? { [this.spec.key]: 1 }).map((f) => (f === '_id' ? this.spec.key : f)));
      }
      throw err;
    }
  }

  async get(key: string) {
    return this.fromDb(await this.collection.findOne({ _id: key as never }));
  }

  async find(filter: Filter<T> = {}, page: Page = {}) {
    const desc = page.order === 'desc';
    const query: Document = page.after === undefined ? { ...filter } : { ...filter, _id: { [desc ? '$lt' : '$gt']: page.after } };
    let cursor = this.collection.find(query).sort({ _id: desc ? -1 : 1 }).skip(page.skip ?? 0);
    if (page.limit !== undefined) cursor = cursor.limit(page.limit);
    return (await cursor.toArray()).map((doc) => this.fromDb(doc) as T);
  }

  count(filter: Filter<T> = {}) {
    return this.collection.countDocuments(filter as Document);
  }

  async insert(doc: T) {
    await this.write(() => this.collection.insertOne(this.toDb(doc)));
  }

  async insertIfAbsent(doc: T) {
    try {
      await this.insert(doc);
      return true;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return false;
      throw err;
    }
  }

  async update(key: string, change: Change<T>, condition: Filter<T> = {}) {
    const updated = await this.write(() => this.collection.findOneAndUpdate({ ...condition, _id: key as never }, toUpdate(change), { returnDocument: 'after' }));
    return this.fromDb(updated);
  }

  async delete(key: string) {
    return (await this.collection.deleteOne({ _id: key as never })).deletedCount === 1;
  }

  async deleteMany(filter: Filter<T>) {
    return (await this.collection.deleteMany(filter as Document)).deletedCount;
  }

  async deleteBefore(key: string) {
    return (await this.collection.deleteMany({ _id: { $lt: key as never } })).deletedCount;
  }

  /** A transaction's writes on this collection, run in `session` (a transaction) or alone. */
  writer(steps: ((session?: ClientSession) => Promise<unknown>)[]): TransactionWriter<T> {
    const options = (session?: ClientSession) => (session ? { session } : {});
    return {
      insert: (doc) => steps.push((session) => this.write(() => this.collection.insertOne(this.toDb(doc), options(session)))),
      update: (key, change) => steps.push((session) => this.write(() => this.collection.updateOne({ _id: key as never }, toUpdate(change), options(session)))),
      updateMany: (filter, change) => steps.push((session) => this.write(() => this.collection.updateMany(filter as Document, toUpdate(change), options(session)))),
      delete: (key) => steps.push((session) => this.collection.deleteOne({ _id: key as never }, options(session))),
      deleteMany: (filter) => steps.push((session) => this.collection.deleteMany(filter as Document, options(session))),
    };
  }
}

/**
 * Durable oidc-provider models (Grant). The payload is stored as a JSON string because its keys are resource
 * indicator URLs, whose dots MongoDB field names do not tolerate well.
 */
class MongoOidcAdapter implements Adapter {
  private readonly db: Db;
  private readonly model: string;
  constructor(db: Db, model: string) {
    this.db = db;
    this.model = model;
  }

  private get collection() {
    return this.db.collection<Document>(`oidc_${this.model}`);
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await this.collection.createIndex({ grantId: 1 }, { sparse: true });
    await this.collection.createIndex({ uid: 1 }, { sparse: true });
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : undefined;
    await this.collection.replaceOne(
      { _id: id as never },
      { payload: JSON.stringify(payload), grantId: payload.grantId, uid: payload.uid, userCode: payload.userCode, ...(expiresAt ? { expiresAt } : {}) },
      { upsert: true },
    );
  }

  private parse(doc: Document | null): AdapterPayload | undefined {
    if (!doc || (doc.expiresAt && doc.expiresAt.getTime() <= Date.now())) return undefined;
    const payload = JSON.parse(doc.payload as string) as AdapterPayload;
    return doc.consumed ? { ...payload, consumed: doc.consumed as number } : payload;
  }

  async find(id: string) {
    return this.parse(await this.collection.findOne({ _id: id as never }));
  }

  async findByUid(uid: string) {
    return this.parse(await this.collection.findOne({ uid }));
  }

  async findByUserCode(userCode: string) {
    return this.parse(await this.collection.findOne({ userCode }));
  }

  async consume(id: string) {
    const result = await this.collection.updateOne({ _id: id as never, consumed: { $exists: false } }, { $set: { consumed: Math.floor(Date.now() / 1000) } });
    if (result.matchedCount === 0 && (await this.collection.countDocuments({ _id: id as never })) > 0) {
      throw new errors.InvalidGrant(`${this.model} was already used`); // the loser of a race gets invalid_grant, not a 500
    }
  }

  async destroy(id: string) {
    await this.collection.deleteOne({ _id: id as never });
  }

  async revokeByGrantId(grantId: string) {
    await this.collection.deleteMany({ grantId });
  }
}

export type MongoStore = DurableStore & { readonly kind: 'mongodb' };

/** Whether the deployment runs transactions: a replica set or a sharded cluster (a standalone server does not). */
async function supportsTransactions(db: Db): Promise<boolean> {
  const hello = await db.admin().command({ hello: 1 });
  return Boolean(hello.setName) || hello.msg === 'isdbgrid';
}

export async function openMongoStore(uri: string): Promise<MongoStore> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db();
  const collections = Object.fromEntries(COLLECTION_NAMES.map((name) => [name, new MongoCollection(db, COLLECTIONS[name] as never)])) as
    { [K in keyof DurableEntities]: MongoCollection<DurableEntities[K]> };
  for (const collection of Object.values(collections)) await collection.ensureIndexes();
  const transactions = await supportsTransactions(db);
  const adapters = new Map<string, MongoOidcAdapter>();
  const grantAdapter = new MongoOidcAdapter(db, 'Grant');
  await grantAdapter.ensureIndexes();
  adapters.set('Grant', grantAdapter);
  return {
    kind: 'mongodb',
    ...collections,
    async transaction(record: (tx: Transaction) => void) {
      const steps: ((session?: ClientSession) => Promise<unknown>)[] = [];
      record(Object.fromEntries(COLLECTION_NAMES.map((name) => [name, collections[name].writer(steps)])) as Transaction);
      if (!transactions) {
        for (const step of steps) await step();
        return;
      }
      await client.withSession((session) => session.withTransaction(async () => {
        for (const step of steps) await step(session);
      }));
    },
    oidcAdapter(model: string): Adapter {
      let adapter = adapters.get(model);
      if (!adapter) adapters.set(model, (adapter = new MongoOidcAdapter(db, model)));
      return adapter;
    },
    async ping() {
      await db.command({ ping: 1 });
    },
    async close() {
      await client.close();
    },
  };
}
