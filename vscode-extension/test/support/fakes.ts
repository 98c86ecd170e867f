// Small fakes of the few vscode/languageclient surfaces the extension's modules take as parameters.
import { Disposable, TokenLike } from '../../src/cancellation';
import { ClientLike, Host, ReadyPlan } from '../../src/controller';
import { LaunchPlan } from '../../src/serverLaunch';
import { CodeLmSettings, DEFAULTS } from '../../src/settings';
import { StatusItemLike } from '../../src/statusBar';

export class FakeToken implements TokenLike {
  isCancellationRequested = false;
  private readonly listeners: Array<() => void> = [];
  onCancellationRequested(listener: () => void): Disposable {
    this.listeners.push(listener);
    return { dispose: () => void this.listeners.splice(this.listeners.indexOf(listener) >>> 0, 1) };
  }
  cancel(): void {
    this.isCancellationRequested = true;
    for (const l of [...this.listeners]) l();
  }
}

export class FakeStatusItem implements StatusItemLike {
  text = '';
  tooltip: unknown = undefined;
  command: unknown = undefined;
  accessibilityInformation: { label: string } | undefined;
  shown = false;
  show(): void {
    this.shown = true;
  }
}

export class FakeClient implements ClientLike {
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  started = 0;
  stopped = 0;
  failStart: Error | undefined;
  private stateListener: ((e: { oldState: number; newState: number }) => void) | undefined;

  constructor(readonly plan: ReadyPlan, readonly settings: CodeLmSettings) {}

  async start(): Promise<void> {
    this.started++;
    if (this.failStart !== undefined) throw this.failStart;
  }
  async stop(): Promise<void> {
    this.stopped++;
  }
  async sendNotification(method: string, params: unknown): Promise<void> {
    this.notifications.push({ method, params });
  }
  readonly requests: Array<{ method: string; params: unknown }> = [];
  respond: (method: string, params: unknown) => unknown = () => undefined;
  async sendRequest<R>(method: string, params: unknown): Promise<R> {
    this.requests.push({ method, params });
    return this.respond(method, params) as R;
  }
  onDidChangeState(listener: (e: { oldState: number; newState: number }) => void): Disposable {
    this.stateListener = listener;
    return { dispose: () => (this.stateListener = undefined) };
  }
  emitState(oldState: number, newState: number): void {
    this.stateListener?.({ oldState, newState });
  }
}

/** A host whose settings the test edits, and which records what the controller asked of the window. */
export class FakeHost implements Host {
  settings: CodeLmSettings = { ...DEFAULTS, checkpointPath: '/ckpt' };
  plan: (s: CodeLmSettings) => LaunchPlan = (s) => ({ ok: true, command: '/bin/codelm', args: ['serve', '--checkpoint', s.checkpointPath], checkpoint: s.checkpointPath });
  readonly clients: FakeClient[] = [];
  readonly errors: Array<{ message: string; actions: string[] }> = [];
  readonly openedSettings: string[] = [];
  readonly logLines: string[] = [];
  logShown = 0;
  answer: string | undefined;
  nextClientFails: Error | undefined;

  readSettings(): CodeLmSettings {
    return this.settings;
  }
  planLaunch(settings: CodeLmSettings): LaunchPlan {
    return this.plan(settings);
  }
  createClient(plan: ReadyPlan, settings: CodeLmSettings): ClientLike {
    const client = new FakeClient(plan, settings);
    client.failStart = this.nextClientFails;
    this.clients.push(client);
    return client;
  }
  async showError(message: string, ...actions: string[]): Promise<string | undefined> {
    this.errors.push({ message, actions });
    return this.answer;
  }
  openSettings(settingId: string): void {
    this.openedSettings.push(settingId);
  }
  showLog(): void {
    this.logShown++;
  }
  log(message: string): void {
    this.logLines.push(message);
  }
  async writeEnabled(enabled: boolean): Promise<void> {
    this.settings = { ...this.settings, enabled };
  }
}

export const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
