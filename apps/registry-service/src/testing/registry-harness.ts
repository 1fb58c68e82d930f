import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { create } from '@bufbuild/protobuf';
import {
  RegistryService,
  UploadHeaderSchema,
  type ModelVersionSpec,
  type UploadModelVersionRequest,
} from '@scoregate/contracts';
import { createRpcClient, createRpcServer, type RpcClient, type RpcServer } from '@scoregate/rpc';
import { createArtifactStore, type ArtifactStore } from '../artifact-store.js';
import { loadCatalogue } from '../catalogue.js';
import { importCatalogue } from '../catalogue-import.js';
import { startEventRelay } from '../event-relay.js';
import {
  DEFAULT_FEATURE_VIEWS_FILE,
  loadFeatureViews,
  type FeatureViews,
} from '../feature-views.js';
import type { RegistryEvents } from '../registry-events.js';
import { createRegistryHandlers } from '../registry-handlers.js';
import { createPostgresDatabase } from '../store/postgres-database.js';
import { createRegistryStore, type RegistryStore } from '../store/registry-store.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { createSqliteDatabase } from '../store/sqlite-database.js';
import { createVersionIntake, MAX_CHUNK_BYTES } from '../version-intake.js';

export const POSTGRES_URL =
  process.env['DATABASE_URL'] ?? 'postgres://scoregate:scoregate@127.0.0.1:5432/scoregate';
const silent = { info() {}, warn() {}, error() {} };

/** Where a registry under test keeps its metadata: a SQLite file or a private PostgreSQL schema. */
export interface TestDatabase {
  readonly name: string;
  open(dataDir: string): Promise<SqlDatabase>;
  /** Drops what open() created (the PostgreSQL schema). */
  dispose(): Promise<void>;
}

export function sqliteTestDatabase(): TestDatabase {
  return {
    name: 'SQLite',
    open: async (dataDir) => createSqliteDatabase({ file: path.join(dataDir, 'registry.sqlite') }),
    dispose: async () => undefined,
  };
}

/** A schema of its own on the shared PostgreSQL, dropped at the end. */
export function postgresTestDatabase(): TestDatabase {
  const schema = `registry_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    name: 'PostgreSQL',
    open: () => createPostgresDatabase({ url: POSTGRES_URL, schema }),
    async dispose() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface RegistryUnderTest {
  readonly dataDir: string;
  readonly store: RegistryStore;
  readonly artifacts: ArtifactStore;
  readonly server: RpcServer;
  readonly address: string;
  readonly client: RpcClient<typeof RegistryService>;
  /** Every file under artifacts/ and staging/, relative to the data folder. */
  files(): Promise<string[]>;
  /** Waits (bounded) until the server runs no handler. */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  readonly db: TestDatabase;
  /** Reuse a data folder (a restart); a new temporary one otherwise. */
  readonly dataDir?: string;
  readonly maxUploadBytes?: number;
  readonly changeLogRetention?: number;
  /** Import the demo catalogue when the store is empty. Default true. */
  readonly seed?: boolean;
  /** The views scorers are checked against; default: the feature-service's feature-views.json. */
  readonly featureViews?: FeatureViews;
  /** Publish the change log to these events through a relay. */
  readonly events?: RegistryEvents;
}

/** A registry-service (handlers, store, artifacts) in this process, on a free loopback port. */
export async function startRegistry(options: StartRegistryOptions): Promise<RegistryUnderTest> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'registry-test-')));
  const featureViews = options.featureViews ?? (await loadFeatureViews(DEFAULT_FEATURE_VIEWS_FILE));
  const store = await createRegistryStore(await options.db.open(dataDir), {
    featureViews,
    ...(options.changeLogRetention ? { changeLogRetention: options.changeLogRetention } : {}),
  });
  const artifacts = await createArtifactStore(dataDir);
  await store.withReferencedDigests((referenced) => artifacts.sweep(referenced, 0));
  const intake = createVersionIntake({
    store,
    artifacts,
    maxUploadBytes: options.maxUploadBytes ?? 64 * 1024 * 1024,
  });
  if ((options.seed ?? true) && (await store.revision()) === 0n)
    await importCatalogue(await loadCatalogue(), store, intake);
  const server = createRpcServer({
    name: 'registry-test',
    logger: silent,
    maxReceiveMessageBytes: MAX_CHUNK_BYTES + 64 * 1024,
  });
  server.register(
    RegistryService,
    createRegistryHandlers({
      store,
      artifacts,
      intake,
      watchPollMs: 200,
    }),
  );
  const relay = options.events
    ? startEventRelay({
        store,
        events: options.events,
        name: 'test-relay',
        logger: silent,
        pollMs: 100,
        retryMs: 100,
      })
    : undefined;
  const address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  const client = createRpcClient(RegistryService, {
    address,
    maxSendMessageBytes: MAX_CHUNK_BYTES + 64 * 1024,
  });
  const list = async (dir: string): Promise<string[]> => {
    const entries = await readdir(path.join(dataDir, dir), {
      recursive: true,
      withFileTypes: true,
    });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(dataDir, path.join(e.parentPath, e.name)));
  };
  return {
    dataDir,
    store,
    artifacts,
    server,
    address,
    client,
    files: async () => [...(await list('artifacts')), ...(await list('staging'))].sort(),
    async idle(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (server.inFlight() > 0) {
        if (Date.now() > deadline) throw new Error(`${server.inFlight()} call(s) still running`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      client.close();
      await server.shutdown({ drainDelayMs: 0, graceMs: 2000, flushMs: 50 });
      await relay?.stop();
      await store.close();
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The upload messages for `bytes`: the header (digest and size of the bytes unless overridden), then chunks. */
export function uploadMessages(
  model: string,
  spec: ModelVersionSpec,
  bytes: Uint8Array,
  overrides: {
    sha256?: string;
    sizeBytes?: bigint;
    chunkBytes?: number;
    registeredBy?: string;
  } = {},
): UploadModelVersionRequest[] {
  const header = create(UploadHeaderSchema, {
    model,
    sha256: overrides.sha256 ?? sha256Of(bytes),
    sizeBytes: overrides.sizeBytes ?? BigInt(bytes.length),
    spec,
    registeredBy: overrides.registeredBy ?? 'test@registry',
  });
  const messages = [
    { content: { case: 'header' as const, value: header } },
  ] as UploadModelVersionRequest[];
  const step = overrides.chunkBytes ?? 8192;
  for (let at = 0; at < bytes.length; at += step)
    messages.push({
      content: { case: 'chunk', value: bytes.subarray(at, at + step) },
    } as UploadModelVersionRequest);
  return messages;
}

// ---------------------------------------------------------------------------------------------
// A tiny protobuf writer, to derive ONNX files from the fixtures.

function varint(value: number): number[] {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/** A length-delimited field. */
export function field(number: number, payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return Uint8Array.from([...varint(number * 8 + 2), ...varint(bytes.length), ...bytes]);
}

/** A varint field. */
export function varintField(number: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(number * 8), ...varint(value)]);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/**
 * The model with one more metadata_props entry (ModelProto field 14): still valid ONNX with the
 * same signature, but different bytes — a distinct artifact.
 */
export function withMetadata(model: Uint8Array, key: string, value: string): Uint8Array {
  return concat(model, field(14, concat(field(1, key), field(2, value))));
}

/**
 * The model plus a graph initializer (ModelProto.graph = 7, GraphProto.initializer = 5) stored as
 * external data (TensorProto.data_location = 14 EXTERNAL, external_data = 13) at `location`.
 * Protobuf merges the second graph field into the first.
 */
export function withExternalData(model: Uint8Array, location: string): Uint8Array {
  const tensor = concat(
    varintField(1, 4), // dims
    varintField(2, 1), // FLOAT
    field(8, 'external_weights'),
    field(13, concat(field(1, 'location'), field(2, location))),
    varintField(14, 1), // EXTERNAL
  );
  return concat(model, field(7, field(5, tensor)));
}
