// A small in-memory `vscode` module: enough of the API for the bundled extension to activate, register
// its commands, read settings and report problems.
import Module = require('module');

export interface FakeVscode {
  api: Record<string, unknown>;
  settings: Record<string, unknown>;
  commands: Map<string, (...args: unknown[]) => unknown>;
  executed: Array<{ command: string; args: unknown[] }>;
  errors: Array<{ message: string; actions: string[] }>;
  statusItems: Array<{ text: string; tooltip: unknown; command: unknown; accessibilityInformation?: { label: string } }>;
  logLines: string[];
  answerError: string | undefined;
  fireConfigurationChange(): void;
}

export function createFakeVscode(settings: Record<string, unknown>): FakeVscode {
  const configListeners: Array<(e: { affectsConfiguration(s: string): boolean }) => void> = [];
  const disposable = { dispose: () => undefined };
  const fake: FakeVscode = {
    api: {},
    settings,
    commands: new Map(),
    executed: [],
    errors: [],
    statusItems: [],
    logLines: [],
    answerError: undefined,
    fireConfigurationChange: () => configListeners.forEach((l) => l({ affectsConfiguration: (s) => s === 'codelm' || s.startsWith('codelm.') })),
  };
  const api: Record<string, unknown> = {
    StatusBarAlignment: { Left: 1, Right: 2 },
    ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
    InlineCompletionTriggerKind: { Invoke: 0, Automatic: 1 },
    window: {
      createOutputChannel: () => ({
        info: (m: string) => fake.logLines.push(m),
        warn: (m: string) => fake.logLines.push(m),
        error: (m: string) => fake.logLines.push(m),
        appendLine: (m: string) => fake.logLines.push(m),
        show: () => undefined,
        dispose: () => undefined,
      }),
      createStatusBarItem: () => {
        const item = { text: '', tooltip: undefined, command: undefined, name: '', show: () => undefined, dispose: () => undefined };
        fake.statusItems.push(item);
        return item;
      },
      showErrorMessage: async (message: string, ...actions: string[]) => {
        fake.errors.push({ message, actions });
        return fake.answerError;
      },
    },
    workspace: {
      workspaceFolders: undefined,
      getConfiguration: (section: string) => ({
        get: (key: string) => fake.settings[`${section}.${key}`],
        update: async (key: string, value: unknown) => {
          fake.settings[`${section}.${key}`] = value;
          fake.fireConfigurationChange();
        },
      }),
      onDidChangeConfiguration: (listener: (e: { affectsConfiguration(s: string): boolean }) => void) => {
        configListeners.push(listener);
        return disposable;
      },
      onDidChangeTextDocument: () => disposable,
    },
    commands: {
      registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
        fake.commands.set(id, handler);
        return disposable;
      },
      executeCommand: async (command: string, ...args: unknown[]) => {
        fake.executed.push({ command, args });
        return fake.commands.get(command)?.(...args);
      },
    },
  };
  // vscode-languageclient subclasses these at import time (the bundle copies the module's own keys, so list them).
  for (const name of ['CallHierarchyItem', 'CodeLens', 'CompletionItem', 'DocumentLink', 'InlayHint', 'SymbolInformation', 'TypeHierarchyItem', 'CodeAction', 'Diagnostic', 'CancellationError']) {
    api[name] = class {};
  }
  fake.api = api;
  return fake;
}

/** Makes `require('vscode')` return the fake until the returned function is called. */
export function installFakeVscode(fake: FakeVscode): () => void {
  const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const original = loader._load;
  loader._load = function (request: string, parent: unknown, isMain: boolean) {
    return request === 'vscode' ? fake.api : original.call(this, request, parent, isMain);
  };
  return () => {
    loader._load = original;
  };
}
