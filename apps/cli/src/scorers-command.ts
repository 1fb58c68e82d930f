import { readFile } from 'node:fs/promises';
import { fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { durationMs } from '@bufbuild/protobuf/wkt';
import { ScorerSchema, type Scorer } from '@scoregate/contracts';
import { withRegistry, type CommandIo } from './registry-io.js';

/** `scorers apply <file.json>`: creates or replaces the scorer(s) in the file (canonical JSON of Scorer, or an array). */
export async function applyScorers(registry: string, file: string, io: CommandIo): Promise<number> {
  let scorers: Scorer[];
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as JsonValue;
    const list = Array.isArray(json) ? json : [json];
    scorers = list.map((item, i) => {
      try {
        return fromJson(ScorerSchema, item);
      } catch (error) {
        throw new Error(
          `${file}${Array.isArray(json) ? `[${i}]` : ''}: not a scoregate.registry.v1.Scorer in canonical JSON: ${(error as Error).message}`,
        );
      }
    });
  } catch (error) {
    io.err(`error: ${(error as Error).message}`);
    return 2;
  }
  return withRegistry(registry, io, async (client) => {
    for (const scorer of scorers) {
      const { scorer: stored, revision } = await client.putScorer({ scorer });
      io.out(
        `applied scorer ${stored!.name}: ${stored!.chain.map((s) => `${s.model}@${s.alias}`).join(' -> ')}, budget ${durationMs(stored!.budget!)} ms (revision ${revision})`,
      );
    }
  });
}

/** `scorers list`: every scorer as canonical JSON lines. */
export function listScorers(registry: string, io: CommandIo): Promise<number> {
  return withRegistry(registry, io, async (client) => {
    let pageToken = '';
    do {
      const page = await client.listScorers({ pageSize: 1000, pageToken });
      for (const scorer of page.scorers) io.out(JSON.stringify(toJson(ScorerSchema, scorer)));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
  });
}
