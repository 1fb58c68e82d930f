import type { Command } from 'commander';
import { pushModel, listModels, removeAlias, setAlias, showModel } from './models-command.js';
import { DEFAULT_REGISTRY_ADDRESS, processIo } from './registry-io.js';
import { applyScorers, listScorers } from './scorers-command.js';

interface RegistryOptions {
  readonly registry: string;
}

/**
 * Gives `command` the `--registry` option and `run` as its action; the exit code `run` returns
 * becomes the process's. Commander passes the positional arguments, then the options.
 */
function registryAction<A extends unknown[]>(
  command: Command,
  run: (...args: A) => Promise<number>,
): Command {
  return command
    .option('--registry <host:port>', 'registry-service address', DEFAULT_REGISTRY_ADDRESS)
    .action(async (...args: A) => {
      process.exitCode = await run(...args);
    });
}

/** `scoregate models …`: push, list, show, alias set|rm. */
export function registerModelCommands(program: Command): void {
  const models = program
    .command('models')
    .description('model versions and aliases in the registry');
  registryAction(
    models
      .command('push <file>')
      .description('upload an ONNX file as a new version of a model (with a progress bar)')
      .requiredOption('--name <model>', 'the model to add a version to (created if new)')
      .requiredOption(
        '--signature <json|file>',
        'ModelVersionSpec canonical JSON (contract, input, outputs, …), inline or a file',
      )
      .option('--description <text>', 'description of the model, when this upload creates it')
      .option('--registered-by <who>', 'who registers it (default user@host)'),
    (
      file: string,
      options: RegistryOptions & {
        name: string;
        signature: string;
        description?: string;
        registeredBy?: string;
      },
    ) => pushModel({ file, ...options }, processIo),
  );
  registryAction(
    models.command('list').description('list models with their latest version and aliases'),
    (options: RegistryOptions) => listModels(options.registry, processIo),
  );
  registryAction(
    models
      .command('show <name>')
      .description('show a model and its versions, or one version (--version or --alias) as JSON')
      .option('--version <n>', 'one version by number')
      .option('--alias <alias>', 'one version through an alias'),
    (name: string, options: RegistryOptions & { version?: string; alias?: string }) =>
      showModel({ name, ...options }, processIo),
  );
  registerAliasCommands(
    models.command('alias').description('move or remove aliases (champion, fallback, canary, …)'),
  );
}

/** `scoregate models alias …`: set, rm. */
function registerAliasCommands(alias: Command): void {
  registryAction(
    alias
      .command('set <model> <alias> <version>')
      .description('point an alias at a version (creates the alias if needed)')
      .option('--reason <why>', 'why, kept in the alias history')
      .option(
        '--expected-version <n>',
        'only if the alias points at this version now ("" = must not exist)',
      ),
    (
      model: string,
      name: string,
      version: string,
      options: RegistryOptions & { reason?: string; expectedVersion?: string },
    ) => setAlias({ model, alias: name, version, ...options }, processIo),
  );
  registryAction(
    alias
      .command('rm <model> <alias>')
      .description('remove an alias (refused while a scorer uses it)')
      .option('--reason <why>', 'why, kept in the alias history'),
    (model: string, name: string, options: RegistryOptions & { reason?: string }) =>
      removeAlias({ model, alias: name, ...options }, processIo),
  );
}

/** `scoregate scorers …`: apply, list. */
export function registerScorerCommands(program: Command): void {
  const scorers = program
    .command('scorers')
    .description('scorers (the gateway routes) in the registry');
  registryAction(
    scorers
      .command('apply <file>')
      .description(
        'create or replace the scorer(s) of a JSON file (Scorer canonical JSON, or an array)',
      ),
    (file: string, options: RegistryOptions) => applyScorers(options.registry, file, processIo),
  );
  registryAction(
    scorers.command('list').description('print every scorer as a JSON line'),
    (options: RegistryOptions) => listScorers(options.registry, processIo),
  );
}
