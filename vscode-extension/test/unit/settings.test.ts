import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULTS, didChangeConfigurationParams, needsRestart, readSettings, serverSettings, serverSettingsChanged } from '../../src/settings';

const reader = (values: Record<string, unknown>) => ({ get: <T>(key: string) => values[key] as T | undefined });
const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));

describe('settings', () => {
  it('has the same defaults as package.json contributes.configuration', () => {
    const props = manifest.contributes.configuration.properties as Record<string, { default: unknown }>;
    const fromManifest = Object.fromEntries(Object.entries(props).map(([k, v]) => [k.replace(/^codelm\./, ''), v.default]));
    assert.deepStrictEqual(fromManifest, { ...DEFAULTS });
  });

  it('activates on exactly the default enabled languages', () => {
    assert.deepStrictEqual(manifest.activationEvents, DEFAULTS.enabledLanguages.map((l) => `onLanguage:${l}`));
  });

  it('falls back to defaults for missing or mistyped values', () => {
    assert.deepStrictEqual(readSettings(reader({})), DEFAULTS);
    const s = readSettings(reader({ maxNewTokens: 'many', temperature: Number.NaN, enabled: 'yes', serverPath: '   ', enabledLanguages: 'python', trigger: 'sometimes', candidateMode: 'lazy', acceptanceLog: 'no' }));
    assert.deepStrictEqual(s, DEFAULTS);
    assert.strictEqual(readSettings(reader({ trigger: 'manual' })).trigger, 'manual');
  });

  it('clamps numbers and cleans the language list', () => {
    const s = readSettings(reader({ maxNewTokens: 5000, temperature: -1, debounceMs: 12.6, contextBudget: 3, enabledLanguages: [' python ', 'go', 'python', '', 7] }));
    assert.strictEqual(s.maxNewTokens, 1024);
    assert.strictEqual(s.temperature, 0);
    assert.strictEqual(s.debounceMs, 13);
    assert.strictEqual(s.contextBudget, 32);
    assert.deepStrictEqual(s.enabledLanguages, ['python', 'go']);
  });

  it('sends the server its settings under initializationOptions and { codelm: ... }', () => {
    const s = readSettings(reader({ maxNewTokens: 32, temperature: 0.5, contextBudget: 512, enabledLanguages: ['python'], checkpointPath: '/x', candidates: 12, candidateMode: 'eager', acceptanceLog: false, slowThresholdMs: 10 }));
    assert.deepStrictEqual(serverSettings(s), {
      maxNewTokens: 32,
      temperature: 0.5,
      contextBudget: 512,
      enabledLanguages: ['python'],
      candidates: 8,
      candidateMode: 'eager',
      candidateTemperature: 0.8,
      repoContext: true,
      repoContextTokens: 512,
      acceptanceLog: false,
    });
    assert.deepStrictEqual(didChangeConfigurationParams(s), { settings: { codelm: serverSettings(s) } });
  });

  it('restarts only for the process or the document selector', () => {
    const a = readSettings(reader({ checkpointPath: '/a' }));
    assert.strictEqual(needsRestart(a, { ...a, temperature: 1 }), false);
    assert.strictEqual(needsRestart(a, { ...a, debounceMs: 10 }), false);
    assert.strictEqual(needsRestart(a, { ...a, checkpointPath: '/b' }), true);
    assert.strictEqual(needsRestart(a, { ...a, serverPath: '/bin/other' }), true);
    assert.strictEqual(needsRestart(a, { ...a, enabledLanguages: ['python'] }), true);
    assert.strictEqual(needsRestart(a, { ...a, verboseLog: true }), true);
    assert.strictEqual(serverSettingsChanged(a, { ...a, debounceMs: 10 }), false);
    assert.strictEqual(serverSettingsChanged(a, { ...a, maxNewTokens: 10 }), true);
  });
});
