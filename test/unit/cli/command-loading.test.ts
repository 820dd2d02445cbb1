import t from 'tap';
import { commandLoaders, commandRegistrations } from '../../../src/cli/commands/index.js';

t.test('only the commands the arguments need are loaded', async (t) => {
  t.equal((await commandRegistrations(['--version'])).length, 0, '--version: none');
  t.equal((await commandRegistrations(['-V'])).length, 0, '-V: none');
  t.equal((await commandRegistrations(['validate', 'x.yaml'])).length, 1, 'a command: that one');
  t.equal((await commandRegistrations(['speaker', '--version'])).length, 1, 'a command and --version');
  t.equal(
    (await commandRegistrations(['--help'])).length,
    Object.keys(commandLoaders).length,
    'help: every command (it lists them)',
  );
});
