import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerModelCommands, registerScorerCommands } from './registry-commands.js';
import { DEFAULT_REGISTRY_ADDRESS } from './registry-io.js';

function program(): Command {
  const root = new Command('scoregate').exitOverride();
  registerModelCommands(root);
  registerScorerCommands(root);
  return root;
}

function leaves(command: Command, path = ''): [string, Command][] {
  if (command.commands.length === 0) return [[path, command]];
  return command.commands.flatMap((sub) => leaves(sub, `${path} ${sub.name()}`.trim()));
}

describe('registry commands', () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it('gives every models and scorers command a --registry option defaulting to the local registry', () => {
    const commands = leaves(program());
    expect(commands.map(([path]) => path).sort()).toEqual([
      'models alias rm',
      'models alias set',
      'models list',
      'models push',
      'models show',
      'scorers apply',
      'scorers list',
    ]);
    for (const [path, command] of commands) {
      const registry = command.options.find((option) => option.long === '--registry');
      expect(registry?.defaultValue, path).toBe(DEFAULT_REGISTRY_ADDRESS);
    }
  });

  it('sets the exit code the command returns (1 when the registry cannot be reached)', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => errors.push(line));
    await program().parseAsync(['models', 'alias', 'rm', 'm', 'a', '--registry', '127.0.0.1:1'], {
      from: 'user',
    });
    expect(process.exitCode).toBe(1);
    expect(errors.join('\n')).toMatch(/^error: UNAVAILABLE /);
  });
});
