import type { Command } from 'commander';
import { pushModel, listModels, removeAlias, setAlias, showModel } from './models-command.js';
import { DEFAULT_REGISTRY_ADDRESS, processIo } from './registry-io.js';
import { applyScorers, listScorers } from './scorers-command.js';

const registryOption = [
  '--registry <host:port>',
  'registry-service address',
  DEFAULT_REGISTRY_ADDRESS,
] as const;

/** `scoregate models …`: push, list, show, alias set|rm. */
export function registerModelCommands(program: Command): void {
  const models = program
    .command('models')
    .description('model versions and aliases in the registry');
  models
    .command('push <file>')
    .description('upload an ONNX file as a new version of a model (with a progress bar)')
    .requiredOption('--name <model>', 'the model to add a version to (created if new)')
    .requiredOption(
      '--signature <json|file>',
      'ModelVersionSpec canonical JSON (contract, input, outputs, …), inline or a file',
    )
    .option('--description <text>', 'description of the model, when this upload creates it')
    .option('--registered-by <who>', 'who registers it (default user@host)')
    .option(...registryOption)
    .action(
      async (
        file: string,
        options: {
          name: string;
          signature: string;
          description?: string;
          registeredBy?: string;
          registry: string;
        },
      ) => {
        process.exitCode = await pushModel({ file, ...options }, processIo);
      },
    );
  models
    .command('list')
    .description('list models with their latest version and aliases')
    .option(...registryOption)
    .action(async (options: { registry: string }) => {
      process.exitCode = await listModels(options.registry, processIo);
    });
  models
    .command('show <name>')
    .description('show a model and its versions, or one version (--version or --alias) as JSON')
    .option('--version <n>', 'one version by number')
    .option('--alias <alias>', 'one version through an alias')
    .option(...registryOption)
    .action(
      async (name: string, options: { version?: string; alias?: string; registry: string }) => {
        process.exitCode = await showModel({ name, ...options }, processIo);
      },
    );
  const alias = models
    .command('alias')
    .description('move or remove aliases (champion, fallback, canary, …)');
  alias
    .command('set <model> <alias> <version>')
    .description('point an alias at a version (creates the alias if needed)')
    .option('--reason <why>', 'why, kept in the alias history')
    .option(
      '--expected-version <n>',
      'only if the alias points at this version now ("" = must not exist)',
    )
    .option(...registryOption)
    .action(
      async (
        model: string,
        name: string,
        version: string,
        options: { reason?: string; expectedVersion?: string; registry: string },
      ) => {
        process.exitCode = await setAlias({ model, alias: name, version, ...options }, processIo);
      },
    );
  alias
    .command('rm <model> <alias>')
    .description('remove an alias (refused while a scorer uses it)')
    .option('--reason <why>', 'why, kept in the alias history')
    .option(...registryOption)
    .action(async (model: string, name: string, options: { reason?: string; registry: string }) => {
      process.exitCode = await removeAlias({ model, alias: name, ...options }, processIo);
    });
}

/** `scoregate scorers …`: apply, list. */
export function registerScorerCommands(program: Command): void {
  const scorers = program
    .command('scorers')
    .description('scorers (the gateway routes) in the registry');
  scorers
    .command('apply <file>')
    .description(
      'create or replace the scorer(s) of a JSON file (Scorer canonical JSON, or an array)',
    )
    .option(...registryOption)
    .action(async (file: string, options: { registry: string }) => {
      process.exitCode = await applyScorers(options.registry, file, processIo);
    });
  scorers
    .command('list')
    .description('print every scorer as a JSON line')
    .option(...registryOption)
    .action(async (options: { registry: string }) => {
      process.exitCode = await listScorers(options.registry, processIo);
    });
}
