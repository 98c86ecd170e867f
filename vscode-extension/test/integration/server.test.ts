// The real C# server (`codelm serve` with a tiny checkpoint trained in this run), driven over stdio with
// vscode-languageserver-protocol exactly as the extension drives it through vscode-languageclient:
// same launch plan, same initializationOptions, same didChangeConfiguration payload, same middleware.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CancellationTokenSource,
  CompletionRequest,
  ConfigurationRequest,
  DidChangeConfigurationNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  InlineCompletionList,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  LSPErrorCodes,
  RegistrationRequest,
  ResponseError,
  ShutdownRequest,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageserver-protocol/node';
import { TokenLike } from '../../src/cancellation';
import { createInlineCompletionMiddleware } from '../../src/inlineMiddleware';
import { RequestGate } from '../../src/requestGate';
import { CodeLmSettings, DEFAULTS, didChangeConfigurationParams, serverSettings } from '../../src/settings';
import { StatusController } from '../../src/statusBar';
import { FakeStatusItem, FakeToken } from '../support/fakes';
import { codelmDll, RunningServer, startServer } from './codelmServer';
import { buildTinyCheckpoint, TRAINED_DOCUMENT } from './tinyCheckpoint';

const URI = 'file:///workspace/greet.py';

/** The client capabilities vscode-languageclient 11 declares for what this extension uses. */
const capabilities = {
  general: { positionEncodings: ['utf-16'] },
  workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } },
  textDocument: {
    synchronization: { dynamicRegistration: true, willSave: true, willSaveWaitUntil: true, didSave: true },
    completion: { dynamicRegistration: true, contextSupport: true, completionItem: { snippetSupport: true } },
    inlineCompletion: { dynamicRegistration: true },
  },
  window: { workDoneProgress: true },
};

describe('codelm serve (real server, tiny checkpoint)', function () {
  this.timeout(300_000);
  let work: string;
  let settings: CodeLmSettings;
  let server: RunningServer;

  const inline = (line: number, character: number, token?: TokenLike) =>
    server.connection.sendRequest(
      InlineCompletionRequest.type,
      { textDocument: { uri: URI }, position: { line, character }, context: { triggerKind: InlineCompletionTriggerKind.Invoked } },
      token as never,
    );

  const cursor = TRAINED_DOCUMENT.cursor;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'codelm-ext-it-'));
    const checkpoint = await buildTinyCheckpoint(work);
    settings = { ...DEFAULTS, serverPath: codelmDll(), checkpointPath: checkpoint, temperature: 0, maxNewTokens: 24 };
    server = startServer(settings);
    // Requests a server may make of the client; answered like vscode-languageclient would.
    server.connection.onRequest(ConfigurationRequest.type, (params) =>
      params.items.map((item) => (item.section === 'codelm' ? { ...settings, ...serverSettings(settings) } : null)),
    );
    server.connection.onRequest(RegistrationRequest.type, () => undefined);
    server.connection.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
  });

  after(async () => {
    if (server !== undefined && server.process.exitCode === null) server.process.kill();
    server?.connection.dispose();
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  });

  it('initializes with the extension initializationOptions and advertises inline completion', async () => {
    const result = await server.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      clientInfo: { name: 'Visual Studio Code', version: '1.100.3' },
      rootUri: null,
      capabilities,
      initializationOptions: serverSettings(settings),
      workspaceFolders: null,
    });
    assert.ok(result.capabilities.inlineCompletionProvider, `capabilities: ${JSON.stringify(result.capabilities)}`);
    // The completion-list fallback is offered only to clients without inline completions, so VS Code does not show
    // the same text twice; the server still answers textDocument/completion (tested below).
    assert.strictEqual(result.capabilities.completionProvider, undefined);
    assert.strictEqual(result.capabilities.positionEncoding ?? 'utf-16', 'utf-16');
    await server.connection.sendNotification(InitializedNotification.type, {});
    await server.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: URI, languageId: 'python', version: 1, text: TRAINED_DOCUMENT.text },
    });
  });

  it('completes at the cursor with an InlineCompletionList whose item starts there', async () => {
    const result = (await inline(cursor.line, cursor.character)) as InlineCompletionList;
    assert.ok(result !== null && Array.isArray(result.items), JSON.stringify(result));
    assert.strictEqual(result.items.length, 1, `${JSON.stringify(result)}\n${server.stderr().slice(-2000)}`);
    const item = result.items[0];
    // The tiny model learned this file by heart, so greedy decoding gives back the body it was trained on.
    assert.strictEqual(item.insertText, TRAINED_DOCUMENT.expected);
    assert.deepStrictEqual(item.range?.start, cursor);
  });

  it('answers textDocument/completion with one item of the same text', async () => {
    const inlineResult = (await inline(cursor.line, cursor.character)) as InlineCompletionList;
    const completion = await server.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri: URI },
      position: cursor,
    });
    const items = Array.isArray(completion) ? completion : (completion?.items ?? []);
    assert.strictEqual(items.length, 1);
    const text = items[0].textEdit && 'newText' in items[0].textEdit ? items[0].textEdit.newText : (items[0].insertText ?? items[0].label);
    assert.strictEqual(text, inlineResult.items[0].insertText);
  });

  it('goes through the extension middleware: a burst sends one request, and it is answered', async () => {
    const status = new StatusController(new FakeStatusItem());
    status.setReady();
    let sent = 0;
    const middleware = createInlineCompletionMiddleware<string, { line: number; character: number }, { triggerKind: number }, TokenLike, InlineCompletionList>({
      gate: new RequestGate(() => 50),
      observer: status,
      isActive: () => true,
      isExplicit: () => false,
      isManualOnly: () => false,
    });
    const next = async (_uri: string, position: { line: number; character: number }, _c: unknown, token: TokenLike) => {
      sent++;
      return (await inline(position.line, position.character, token)) as InlineCompletionList;
    };
    const burst = [0, 1, 2].map(() => middleware(URI, cursor, { triggerKind: 1 }, new FakeToken(), next));
    const results = await Promise.all(burst);
    assert.strictEqual(sent, 1);
    assert.deepStrictEqual(results.slice(0, 2), [null, null]);
    assert.ok(results[2] !== null && results[2].items.length === 1);
    assert.strictEqual(status.state, 'ready');
  });

  it('honours $/cancelRequest and keeps serving', async () => {
    const source = new CancellationTokenSource();
    const pending = inline(cursor.line, cursor.character, source.token);
    source.cancel();
    try {
      const result = await pending;
      // The server may have answered before the cancellation arrived; that answer must still be well-formed.
      assert.ok(result === null || Array.isArray((result as InlineCompletionList).items ?? result));
    } catch (error) {
      assert.ok(error instanceof ResponseError, String(error));
      assert.strictEqual(error.code, LSPErrorCodes.RequestCancelled);
    }
    const after = (await inline(cursor.line, cursor.character)) as InlineCompletionList;
    assert.strictEqual(after.items.length, 1);
  });

  it('applies didChangeConfiguration without a restart', async () => {
    const before = (await inline(cursor.line, cursor.character)) as InlineCompletionList;
    settings = { ...settings, maxNewTokens: 2 };
    await server.connection.sendNotification(DidChangeConfigurationNotification.type, didChangeConfigurationParams(settings));
    const shorter = (await inline(cursor.line, cursor.character)) as InlineCompletionList | null;
    const shortText = shorter?.items[0]?.insertText ?? '';
    assert.ok(String(shortText).length < String(before.items[0].insertText).length, `${JSON.stringify(shortText)} vs ${JSON.stringify(before.items[0].insertText)}`);

    settings = { ...settings, maxNewTokens: 24, enabledLanguages: ['go'] };
    await server.connection.sendNotification(DidChangeConfigurationNotification.type, didChangeConfigurationParams(settings));
    const disabled = (await inline(cursor.line, cursor.character)) as InlineCompletionList | null;
    assert.ok(disabled === null || disabled.items.length === 0, `python is no longer enabled: ${JSON.stringify(disabled)}`);

    settings = { ...settings, enabledLanguages: [...DEFAULTS.enabledLanguages] };
    await server.connection.sendNotification(DidChangeConfigurationNotification.type, didChangeConfigurationParams(settings));
    const again = (await inline(cursor.line, cursor.character)) as InlineCompletionList;
    assert.deepStrictEqual(again.items[0].insertText, before.items[0].insertText);
  });

  it('shuts down and exits cleanly', async () => {
    await server.connection.sendRequest(ShutdownRequest.type);
    await server.connection.sendNotification(ExitNotification.type);
    const code = await Promise.race([server.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.strictEqual(code, 0, server.stderr().slice(-2000));
  });
});
