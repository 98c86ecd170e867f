// Loads the bundled dist/extension.js (what the .vsix ships) against a fake vscode module.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { createFakeVscode, installFakeVscode } from '../support/fakeVscode';
import { tick } from '../support/fakes';

const root = path.join(__dirname, '..', '..', '..');
const bundle = path.join(root, 'dist', 'extension.js');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

type Extension = { activate(context: { subscriptions: unknown[] }): Promise<void>; deactivate(): Promise<void> };

function load(settings: Record<string, unknown>) {
  const fake = createFakeVscode(settings);
  const uninstall = installFakeVscode(fake);
  delete require.cache[require.resolve(bundle)];
  try {
    return { fake, extension: require(bundle) as Extension };
  } finally {
    uninstall();
  }
}

describe('bundled extension activation (fake vscode)', () => {
  it('registers every command it contributes', async () => {
    const { fake, extension } = load({ 'codelm.enabled': false });
    const context = { subscriptions: [] as unknown[] };
    await extension.activate(context);
    const contributed = (manifest.contributes.commands as Array<{ command: string }>).map((c) => c.command).sort();
    // Plus the command each completion runs when accepted, which is not for the palette.
    assert.deepStrictEqual([...fake.commands.keys()].sort(), [...contributed, 'codelm.accepted'].sort());
    assert.ok(context.subscriptions.length > contributed.length);
    assert.strictEqual(fake.statusItems[0].accessibilityInformation?.label, 'CodeLm: disabled');
    await extension.deactivate();
  });

  it('a missing server binary: error status, clear message, and a button that opens the setting', async () => {
    const { fake, extension } = load({ 'codelm.serverPath': '/nonexistent/codelm', 'codelm.checkpointPath': '/nonexistent/ckpt' });
    fake.answerError = 'Open Settings';
    await extension.activate({ subscriptions: [] });
    await tick();
    assert.strictEqual(fake.statusItems[0].accessibilityInformation?.label, 'CodeLm: error');
    assert.strictEqual(fake.errors.length, 1);
    assert.match(fake.errors[0].message, /server "\/nonexistent\/codelm" was not found/);
    assert.deepStrictEqual(fake.errors[0].actions, ['Open Settings', 'Show Log']);
    assert.deepStrictEqual(fake.executed.at(-1), { command: 'workbench.action.openSettings', args: ['codelm.serverPath'] });

    // The disable command persists the setting and the status follows without a reload.
    await fake.commands.get('codelm.disable')!();
    assert.strictEqual(fake.settings['codelm.enabled'], false);
    assert.strictEqual(fake.statusItems[0].accessibilityInformation?.label, 'CodeLm: disabled');
    await extension.deactivate();
  });

  it('trigger completion runs the editor inline-suggest command', async () => {
    const { fake, extension } = load({ 'codelm.enabled': false });
    await extension.activate({ subscriptions: [] });
    await fake.commands.get('codelm.triggerCompletion')!();
    assert.strictEqual(fake.executed.at(-1)?.command, 'editor.action.inlineSuggest.trigger');
    await extension.deactivate();
  });
});
