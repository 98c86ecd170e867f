// Runs the real `vsce package` and checks what the .vsix holds.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yauzl from 'yauzl';

const root = path.join(__dirname, '..', '..', '..');

function readZip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const entries = new Map<string, Buffer>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('vsce package', function () {
  this.timeout(120_000);
  let dir: string;
  let entries: Map<string, Buffer>;
  let manifest: Record<string, any>;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codelm-vsix-'));
    const out = path.join(dir, 'codelm.vsix');
    const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
    execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', out], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entries = await readZip(out);
    manifest = JSON.parse(entries.get('extension/package.json')!.toString('utf8'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ships the bundle named by main, and nothing it does not need', () => {
    assert.strictEqual(manifest.main, './dist/extension.js');
    const main = entries.get('extension/dist/extension.js');
    assert.ok(main !== undefined && main.length > 10_000, 'the bundle is in the package');
    assert.match(main.toString('utf8'), /textDocument\/inlineCompletion/, 'vscode-languageclient is bundled in');
    const files = [...entries.keys()].filter((f) => f.startsWith('extension/')).sort();
    assert.deepStrictEqual(files, ['extension/dist/extension.js', 'extension/package.json', 'extension/readme.md']);
    assert.ok(!files.some((f) => f.includes('node_modules') || f.endsWith('.ts')));
  });

  it('declares engines and language activation events', () => {
    assert.strictEqual(manifest.engines.vscode, '^1.91.0');
    assert.ok(manifest.activationEvents.length > 0);
    assert.ok(manifest.activationEvents.every((e: string) => e.startsWith('onLanguage:')));
    assert.ok(manifest.activationEvents.includes('onLanguage:python'));
    const vsixManifest = entries.get('extension.vsixmanifest')!.toString('utf8');
    assert.match(vsixManifest, /Microsoft\.VisualStudio\.Code\.Engine" Value="\^1\.91\.0"/);
  });

  it('contributes the settings and commands', () => {
    const props = Object.keys(manifest.contributes.configuration.properties).sort();
    assert.deepStrictEqual(props, [
      'codelm.acceptanceLog',
      'codelm.backendModel',
      'codelm.backendUrl',
      'codelm.candidateMode',
      'codelm.candidateTemperature',
      'codelm.candidates',
      'codelm.checkpointPath',
      'codelm.contextBudget',
      'codelm.debounceMs',
      'codelm.enabled',
      'codelm.enabledLanguages',
      'codelm.maxNewTokens',
      'codelm.repoContext',
      'codelm.repoContextTokens',
      'codelm.serverPath',
      'codelm.slowThresholdMs',
      'codelm.temperature',
      'codelm.trigger',
      'codelm.verboseLog',
    ]);
    const commands = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepStrictEqual(commands, ['codelm.disable', 'codelm.enable', 'codelm.restartServer', 'codelm.showLog', 'codelm.toggle', 'codelm.translateSelection', 'codelm.triggerCompletion']);
    // Cycling and partial accept are VS Code's own inline-suggest commands, bound while ghost text is visible.
    const keys = Object.fromEntries(manifest.contributes.keybindings.map((k: { command: string; key: string }) => [k.command, k.key]));
    assert.deepStrictEqual(keys, {
      'codelm.triggerCompletion': 'alt+\\',
      'editor.action.inlineSuggest.showNext': 'alt+]',
      'editor.action.inlineSuggest.showPrevious': 'alt+[',
      'editor.action.inlineSuggest.acceptNextWord': 'ctrl+right',
      'editor.action.inlineSuggest.acceptNextLine': 'ctrl+alt+right',
    });
  });
});
