// Entry point: wires the vscode API into the Controller, the status bar and the inline-completion middleware.
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { ClientLike, Controller, Host, ReadyPlan } from './controller';
import { AcceptanceTracker } from './acceptance';
import { createInlineCompletionMiddleware } from './inlineMiddleware';
import { RequestGate } from './requestGate';
import { executableFor, FileProbe, planLaunch } from './serverLaunch';
import { CodeLmSettings, readSettings, SECTION, serverSettings } from './settings';
import { StatusController } from './statusBar';
import { TranslateResult, translateSelection, TranslateUi } from './translate';

let controller: Controller | undefined;

/** The command each item runs when accepted whole (internal: not in the command palette). */
const ACCEPTED = 'codelm.accepted';

const probe: FileProbe = {
  isFile: (p) => statOf(p)?.isFile() ?? false,
  isDirectory: (p) => statOf(p)?.isDirectory() ?? false,
};

function statOf(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('CodeLm', { log: true });
  const item = vscode.window.createStatusBarItem('codelm.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'CodeLm';
  const status = new StatusController(item, () => controller?.settings.slowThresholdMs ?? 0);
  const gate = new RequestGate(() => controller?.settings.debounceMs ?? 0);
  const tracker = new AcceptanceTracker((event) => {
    if (controller?.settings.acceptanceLog) controller.notify('codelm/event', event);
  });

  const middleware = createInlineCompletionMiddleware<
    vscode.TextDocument,
    vscode.Position,
    vscode.InlineCompletionContext,
    vscode.CancellationToken,
    vscode.InlineCompletionItem[] | vscode.InlineCompletionList
  >({
    gate,
    observer: status,
    isActive: () => controller?.isActive ?? false,
    isExplicit: (ctx) => ctx.triggerKind === vscode.InlineCompletionTriggerKind.Invoke,
    isManualOnly: () => controller?.settings.trigger === 'manual',
    answered: (document, position, result, latencyMs) => {
      const items = Array.isArray(result) ? result : result.items;
      const texts = items.map((i) => (typeof i.insertText === 'string' ? i.insertText : i.insertText.value));
      // Run after a full accept (Tab): the only accept VS Code's stable API reports.
      items.forEach((i, k) => (i.command = { command: ACCEPTED, title: 'CodeLm: accepted', arguments: [texts[k], document.languageId] }));
      tracker.shown(document.uri.toString(), document.offsetAt(position), texts, document.languageId, latencyMs);
      status.latency(latencyMs);
      return result;
    },
    superseded: (document) => tracker.superseded(document.languageId),
  });

  const host: Host = {
    readSettings: () => readSettings(vscode.workspace.getConfiguration(SECTION)),
    planLaunch: (settings) =>
      planLaunch(
        settings,
        {
          pathVariable: process.env.PATH ?? '',
          homeDir: os.homedir(),
          workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
        },
        probe,
      ),
    createClient: (plan, settings) => createClient(plan, settings, log, middleware),
    showError: (message, ...actions) => vscode.window.showErrorMessage(message, ...actions),
    openSettings: (settingId) => void vscode.commands.executeCommand('workbench.action.openSettings', settingId),
    showLog: () => log.show(true),
    log: (message) => log.info(message),
    writeEnabled: (enabled) => vscode.workspace.getConfiguration(SECTION).update('enabled', enabled, vscode.ConfigurationTarget.Global),
  };
  controller = new Controller(host, status, () => gate.cancelAll());
  const c = controller;

  context.subscriptions.push(
    log,
    item,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) void c.configurationChanged();
    }),
    vscode.commands.registerCommand('codelm.toggle', () => c.toggle()),
    vscode.commands.registerCommand('codelm.enable', () => c.setEnabled(true)),
    vscode.commands.registerCommand('codelm.disable', () => c.setEnabled(false)),
    vscode.commands.registerCommand('codelm.restartServer', () => c.restart()),
    vscode.commands.registerCommand('codelm.showLog', () => log.show(true)),
    vscode.commands.registerCommand(ACCEPTED, (text: string, languageId: string) => tracker.accepted(text, languageId)),
    vscode.workspace.onDidChangeTextDocument((e) => {
      for (const c of e.contentChanges) tracker.changed(e.document.uri.toString(), c.rangeOffset, c.rangeLength, c.text);
    }),
    vscode.commands.registerCommand('codelm.triggerCompletion', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
    vscode.commands.registerCommand('codelm.translateSelection', () =>
      translateSelection(translateUi(), (params) => c.request<TranslateResult>('codelm/translate', params)),
    ),
  );
  await c.start();
}

function translateUi(): TranslateUi {
  return {
    source: () => {
      const editor = vscode.window.activeTextEditor;
      if (editor === undefined) return undefined;
      const text = editor.selection.isEmpty ? editor.document.getText() : editor.document.getText(editor.selection);
      return { text, languageId: editor.document.languageId };
    },
    pickTarget: (targets) => vscode.window.showQuickPick([...targets], { placeHolder: 'Translate to…' }),
    withProgress: (title, work) =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => work()),
    openBeside: async (text, languageId) => {
      const doc = await vscode.workspace.openTextDocument({ content: text, language: languageId });
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.Beside);
    },
    showError: (message) => void vscode.window.showErrorMessage(message),
  };
}

export async function deactivate(): Promise<void> {
  const c = controller;
  controller = undefined;
  await c?.dispose();
}

function createClient(
  plan: ReadyPlan,
  settings: CodeLmSettings,
  log: vscode.LogOutputChannel,
  provideInlineCompletionItems: ReturnType<typeof createInlineCompletionMiddleware<
    vscode.TextDocument,
    vscode.Position,
    vscode.InlineCompletionContext,
    vscode.CancellationToken,
    vscode.InlineCompletionItem[] | vscode.InlineCompletionList
  >>,
): ClientLike {
  const serverOptions: ServerOptions = executableFor(plan, process.env);
  const clientOptions: LanguageClientOptions = {
    documentSelector: settings.enabledLanguages.flatMap((language) => [
      { language, scheme: 'file' },
      { language, scheme: 'untitled' },
    ]),
    outputChannel: log,
    initializationOptions: serverSettings(settings),
    middleware: {
      provideInlineCompletionItems,
      // Ghost text comes from inlineCompletion; the server's textDocument/completion is a fallback for
      // editors without it, so asking it too would run the model twice per keystroke.
      provideCompletionItem: () => null,
    },
  };
  return new LanguageClient('codelm', 'CodeLm', serverOptions, clientOptions);
}
