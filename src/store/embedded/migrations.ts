import { COLLECTIONS, type CollectionSpec } from '../collections.ts';
import type { DurableEntities } from '../ports.ts';

/** The SQL expression of a document field: indexes and queries must spell it the same way for SQLite to use an index. */
export const fieldExpression = (field: string) => `json_extract(doc, '$.${field}')`;

export const uniqueIndexName = (table: string, fields: readonly string[]) => `${table}__unique__${fields.join('__')}`;

type Name = keyof DurableEntities;
const spec = (name: Name) => COLLECTIONS[name] as CollectionSpec<unknown>;

/**
 * How the first steps created a collection's table, WITHOUT ROWID; the step after them rebuilt every one as a rowid
 * table (asRowidTables). A table added later is created as one: DOCUMENT_COLUMNS, and a unique index on `key`.
 */
const withoutRowidTable = (name: Name) => `CREATE TABLE ${spec(name).name} (key TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`;
const WITHOUT_ROWID_DOCUMENT_TABLE = /^CREATE TABLE (\w+) \(key TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL\) WITHOUT ROWID$/;
const DOCUMENT_COLUMNS = 'key TEXT NOT NULL, doc TEXT NOT NULL';

const index = (name: Name, field: string) => {
  const { name: t } = spec(name);
  return `CREATE INDEX ${t}__by__${field} ON ${t} (${fieldExpression(field)})`;
};

/** A unique constraint holds only where all of its fields are present (MongoDB's partial unique index, the same rule). */
const unique = (name: Name, fields: readonly string[]) => {
  const { name: t } = spec(name);
  return `CREATE UNIQUE INDEX ${uniqueIndexName(t, fields)} ON ${t} (${fields.map(fieldExpression).join(', ')}) `
    + `WHERE ${fields.map((field) => `${fieldExpression(field)} IS NOT NULL`).join(' AND ')}`;
};

/** oidc-provider models: ids, uids and user codes arrive hashed, payloads sealed (src/store/artifacts.ts). */
const OIDC_COLUMNS = 'model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, expires_at INTEGER, consumed INTEGER, '
  + 'uid TEXT, user_code TEXT, grant_id TEXT';
const OIDC_TABLE = [
  `CREATE TABLE oidc (${OIDC_COLUMNS}, PRIMARY KEY (model, id)) WITHOUT ROWID`,
  'CREATE INDEX oidc__by__uid ON oidc (model, uid) WHERE uid IS NOT NULL',
  'CREATE INDEX oidc__by__user_code ON oidc (model, user_code) WHERE user_code IS NOT NULL',
  'CREATE INDEX oidc__by__grant_id ON oidc (model, grant_id) WHERE grant_id IS NOT NULL',
  'CREATE INDEX oidc__by__expires_at ON oidc (expires_at) WHERE expires_at IS NOT NULL',
];

/**
 * Rebuilds a table that an earlier step created WITHOUT ROWID as a rowid table with the same columns, a unique index on
 * its key and the indexes the earlier steps made on it. A WITHOUT ROWID table keeps whole rows in a tree ordered by
 * their key: with random keys (client ids, token digests) and rows near a kilobyte, each insert dirtied and split pages
 * all over the file, and every commit wrote and synced them all. A rowid table appends its rows; only the small key
 * index takes random inserts (an application's insert and commit: 120 -> 31 µs of CPU, measured with its indexes).
 */
function asRowidTable(table: string, columns: string, key: string, earlier: readonly (readonly string[])[]): string[] {
  const indexes = earlier.flat().filter((sql) => sql.startsWith('CREATE ') && sql.includes(` INDEX ${table}__`) && sql.includes(` ON ${table} (`));
  return [
    `CREATE TABLE ${table}__rebuilt (${columns})`,
    `INSERT INTO ${table}__rebuilt SELECT * FROM ${table}`,
    `DROP TABLE ${table}`,
    `ALTER TABLE ${table}__rebuilt RENAME TO ${table}`,
    `CREATE UNIQUE INDEX ${table}__key ON ${table} (${key})`,
    ...indexes,
  ];
}

/** asRowidTable for every document table the earlier steps created, and for oidc-provider's table. */
const asRowidTables = (earlier: readonly (readonly string[])[]) => [
  ...earlier.flat().flatMap((sql) => WITHOUT_ROWID_DOCUMENT_TABLE.exec(sql)?.[1] ?? []).flatMap((name) => asRowidTable(name, DOCUMENT_COLUMNS, 'key', earlier)),
  ...asRowidTable('oidc', OIDC_COLUMNS, 'model, id', earlier),
];

/** The first steps, which created tables WITHOUT ROWID (databases written before the rebuild below hold them). */
const WITHOUT_ROWID_STEPS: readonly (readonly string[])[] = [
  [
    withoutRowidTable('applications'), index('applications', 'is_first_party'), index('applications', 'app_type'), index('applications', 'registration_type'),
    withoutRowidTable('resourceServers'), unique('resourceServers', ['identifier']),
    withoutRowidTable('clientGrants'), unique('clientGrants', ['client_id', 'audience', 'subject_type']), unique('clientGrants', ['default_for', 'audience', 'subject_type']),
    index('clientGrants', 'client_id'), index('clientGrants', 'default_for'), index('clientGrants', 'audience'),
    withoutRowidTable('connections'), unique('connections', ['name']), index('connections', 'is_domain_connection'),
    withoutRowidTable('users'), unique('users', ['connection', 'email']), index('users', 'email'),
    withoutRowidTable('userGrants'), unique('userGrants', ['user_id', 'clientID', 'audience']), index('userGrants', 'clientID'),
    index('userGrants', 'audience'),
    withoutRowidTable('networkAcls'), unique('networkAcls', ['priority']),
    withoutRowidTable('settings'),
    withoutRowidTable('keys'),
    withoutRowidTable('secrets'),
    ...OIDC_TABLE,
  ],
  [
    withoutRowidTable('logs'), ...['type', 'client_id', 'user_id', 'user_name', 'connection', 'ip', 'audience'].map((field) => index('logs', field)),
    withoutRowidTable('logStreams'), index('logStreams', 'status'),
    withoutRowidTable('connectionActivity'), index('connectionActivity', 'user_id'), index('connectionActivity', 'client_id'),
  ],
  // Applications described by a metadata document (CIMD), the trust ladder, idempotent registration (issue 14).
  [
    unique('applications', ['external_client_id']), unique('applications', ['registration_fingerprint']), index('applications', 'trust'),
  ],
  // Operators' invitations (issue 16): found by the digest of the link's secret.
  [withoutRowidTable('operatorInvitations'), unique('operatorInvitations', ['token_hash'])],
  [withoutRowidTable('revocations')],
];

/**
 * Versioned schema changes, applied in order at start (PRAGMA user_version counts those applied). Append a new step
 * for every change, never edit one that has run somewhere: test/integration/embedded-store.test.ts checks that the
 * indexes the collection specs declare all exist once every step has run (a unique index serves as the index of its
 * first field).
 */
export const DURABLE_MIGRATIONS: readonly (readonly string[])[] = [
  ...WITHOUT_ROWID_STEPS,
  asRowidTables(WITHOUT_ROWID_STEPS),
];

export const ARTIFACT_MIGRATIONS: readonly (readonly string[])[] = [OIDC_TABLE, asRowidTables([OIDC_TABLE])];
