import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { userInfo, hostname } from 'node:os';
import { create, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { SingleBar } from 'cli-progress';
import {
  ModelSchema,
  ModelVersionSchema,
  ModelVersionSpecSchema,
  UploadHeaderSchema,
  type ModelVersionSpec,
  type UploadHeader,
  type UploadModelVersionRequest,
} from '@scoregate/contracts';
import {
  CommandInputError,
  UPLOAD_CHUNK_BYTES,
  withRegistry,
  type CommandIo,
} from './registry-io.js';

export const whoAmI = () => `${userInfo().username}@${hostname()}`;

/**
 * The version's signature and metadata: a ModelVersionSpec in protobuf canonical JSON (at least
 * `contract`, `input` and `outputs`), given inline or as a file. `framework` defaults to `onnx`.
 */
export async function readSignature(signature: string): Promise<ModelVersionSpec> {
  const inline = signature.trimStart().startsWith('{');
  let text = signature;
  if (!inline) {
    if (!existsSync(signature))
      throw new CommandInputError(`--signature: ${signature} is neither inline JSON nor a file`);
    text = await readFile(signature, 'utf8');
  }
  const where = inline ? '--signature' : signature;
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new CommandInputError(`${where}: not valid JSON: ${(error as Error).message}`);
  }
  try {
    const spec = fromJson(ModelVersionSpecSchema, json);
    if (spec.framework === '') spec.framework = 'onnx';
    return spec;
  } catch (error) {
    throw new CommandInputError(
      `${where}: not a scoregate.registry.v1.ModelVersionSpec in canonical JSON (contract, input, outputs): ${(error as Error).message}`,
    );
  }
}

export interface PushOptions {
  readonly registry: string;
  readonly file: string;
  readonly name: string;
  readonly signature: string;
  readonly description?: string;
  readonly registeredBy?: string;
  /** Draw the progress bar even when the stream is not a terminal (tests). */
  readonly forceProgress?: boolean;
}

/** `models push`: hashes the file, then streams it to UploadModelVersion behind a progress bar. */
export async function pushModel(options: PushOptions, io: CommandIo): Promise<number> {
  let spec: ModelVersionSpec;
  let size: number;
  let sha256: string;
  try {
    spec = await readSignature(options.signature);
    size = (await stat(options.file)).size;
    sha256 = await hashFile(options.file);
  } catch (error) {
    io.err(`error: ${(error as Error).message}`);
    return 2;
  }
  const header = create(UploadHeaderSchema, {
    model: options.name,
    sha256,
    sizeBytes: BigInt(size),
    spec,
    registeredBy: options.registeredBy ?? whoAmI(),
    modelDescription: options.description ?? '',
  });
  const bar = new SingleBar({
    stream: io.progress,
    format: `uploading ${options.name} [{bar}] {percentage}% | {value}/{total} bytes`,
    hideCursor: false,
    noTTYOutput: options.forceProgress ?? false,
    notTTYSchedule: 100,
    clearOnComplete: false,
  });
  return withRegistry(options.registry, io, async (client) => {
    bar.start(size, 0);
    try {
      const response = await client.uploadModelVersion(uploadMessages(header, options.file, bar), {
        timeoutMs: 10 * 60_000,
      });
      bar.update(size);
      bar.stop();
      const version = response.version!;
      io.out(
        response.alreadyExisted
          ? `${version.model} version ${version.version} already holds these bytes (sha256 ${version.sha256}); nothing new registered`
          : `registered ${version.model} version ${version.version} (sha256 ${version.sha256}, ${version.sizeBytes} bytes, revision ${response.revision})`,
      );
    } finally {
      bar.stop();
    }
  });
}

/** The upload stream: the header, then the file in chunks, moving the bar as they go. */
async function* uploadMessages(
  header: UploadHeader,
  file: string,
  bar: SingleBar,
): AsyncGenerator<UploadModelVersionRequest> {
  yield { content: { case: 'header', value: header } } as UploadModelVersionRequest;
  let sent = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: UPLOAD_CHUNK_BYTES })) {
    const bytes = chunk as Buffer;
    sent += bytes.length;
    bar.update(sent);
    yield { content: { case: 'chunk', value: new Uint8Array(bytes) } } as UploadModelVersionRequest;
  }
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `models list`: one line per model with its latest version and aliases. */
export function listModels(registry: string, io: CommandIo): Promise<number> {
  return withRegistry(registry, io, async (client) => {
    let pageToken = '';
    const rows: string[][] = [['MODEL', 'LATEST', 'ALIASES', 'CREATED']];
    do {
      const page = await client.listModels({ pageSize: 1000, pageToken });
      for (const model of page.models) {
        rows.push([
          model.name,
          model.latestVersion,
          Object.entries(model.aliases)
            .map(([alias, version]) => `${alias}=${version}`)
            .join(',') || '-',
          model.createdAt ? timestampDate(model.createdAt).toISOString() : '-',
        ]);
      }
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    for (const line of table(rows)) io.out(line);
  });
}

export interface ShowOptions {
  readonly registry: string;
  readonly name: string;
  readonly version?: string;
  readonly alias?: string;
}

/** `models show`: the model and its versions, or one version (by number or alias), as JSON. */
export function showModel(options: ShowOptions, io: CommandIo): Promise<number> {
  return withRegistry(options.registry, io, async (client) => {
    if (options.version !== undefined || options.alias !== undefined) {
      const { version } = await client.getModelVersion({
        model: options.name,
        selector:
          options.version !== undefined
            ? { case: 'version', value: options.version }
            : { case: 'alias', value: options.alias! },
      });
      io.out(JSON.stringify(toJson(ModelVersionSchema, version!), null, 2));
      return;
    }
    const { model } = await client.getModel({ name: options.name });
    const { versions } = await client.listModelVersions({ model: options.name, pageSize: 1000 });
    io.out(
      JSON.stringify(
        {
          model: toJson(ModelSchema, model!),
          versions: versions.map((v) => toJson(ModelVersionSchema, v)),
        },
        null,
        2,
      ),
    );
  });
}

export interface AliasRemoveOptions {
  readonly registry: string;
  readonly model: string;
  readonly alias: string;
  readonly reason?: string;
}

export interface AliasSetOptions extends AliasRemoveOptions {
  readonly version: string;
  readonly expectedVersion?: string;
}

/** The alias a change is about, and why (by default, that this user `done` it with the CLI). */
function aliasChange(options: AliasRemoveOptions, done: string) {
  return {
    model: options.model,
    alias: options.alias,
    reason: options.reason ?? `${done} with the scoregate CLI by ${whoAmI()}`,
  };
}

/** `models alias set`: points an alias at a version (optionally compare-and-set). */
export function setAlias(options: AliasSetOptions, io: CommandIo): Promise<number> {
  return withRegistry(options.registry, io, async (client) => {
    const { moved, revision } = await client.setAlias({
      ...aliasChange(options, 'set'),
      version: options.version,
      movedBy: whoAmI(),
      ...(options.expectedVersion === undefined
        ? {}
        : { expectedVersion: options.expectedVersion }),
    });
    io.out(
      moved!.fromVersion === moved!.toVersion
        ? `${options.model}/${options.alias} already points at version ${moved!.toVersion}`
        : `${options.model}/${options.alias}: ${moved!.fromVersion || '(new)'} -> ${moved!.toVersion} (revision ${revision})`,
    );
  });
}

/** `models alias rm`: removes an alias (refused while a scorer uses it). */
export function removeAlias(options: AliasRemoveOptions, io: CommandIo): Promise<number> {
  return withRegistry(options.registry, io, async (client) => {
    const { deleted, revision } = await client.deleteAlias({
      ...aliasChange(options, 'removed'),
      deletedBy: whoAmI(),
    });
    io.out(
      `${options.model}/${options.alias} removed (was version ${deleted!.version}; revision ${revision})`,
    );
  });
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}
