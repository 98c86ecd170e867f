// Owns the language client's lifecycle: start/stop/restart, enable/disable, and settings changes
// (pushed to the running server over workspace/didChangeConfiguration, or applied by a restart when
// they change the process or the document selector). Everything vscode-specific comes in through Host.
import { Disposable } from './cancellation';
import { LaunchPlan } from './serverLaunch';
import { CodeLmSettings, didChangeConfigurationParams, needsRestart, serverSettingsChanged } from './settings';
import { StatusController } from './statusBar';

export type ReadyPlan = Extract<LaunchPlan, { ok: true }>;

/** The slice of vscode-languageclient's LanguageClient used here. */
export interface ClientLike {
  start(): Promise<void>;
  stop(timeout?: number): Promise<void>;
  sendNotification(method: string, params: unknown): Promise<void>;
  sendRequest<R>(method: string, params: unknown): Promise<R>;
  onDidChangeState(listener: (e: { oldState: number; newState: number }) => void): Disposable;
}

export interface Host {
  readSettings(): CodeLmSettings;
  planLaunch(settings: CodeLmSettings): LaunchPlan;
  createClient(plan: ReadyPlan, settings: CodeLmSettings): ClientLike;
  /** Resolves with the button the user picked, if any. */
  showError(message: string, ...actions: string[]): PromiseLike<string | undefined>;
  openSettings(settingId: string): void;
  showLog(): void;
  log(message: string): void;
  /** Persists `codelm.enabled` (user settings). */
  writeEnabled(enabled: boolean): PromiseLike<void>;
}

// vscode-languageclient's State enum.
const STOPPED = 1;
const RUNNING = 2;

export const OPEN_SETTINGS = 'Open Settings';
export const SHOW_LOG = 'Show Log';

export class Controller {
  private client: ClientLike | undefined;
  private clientState: Disposable | undefined;
  private current: CodeLmSettings;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: Host,
    private readonly status: StatusController,
    private readonly onStopping: () => void = () => undefined,
  ) {
    this.current = host.readSettings();
  }

  get settings(): CodeLmSettings {
    return this.current;
  }

  /** A request to the running server; rejects with a message for the user when none is up. */
  request<R>(method: string, params: unknown): Promise<R> {
    if (this.client === undefined || this.status.state === 'error')
      return Promise.reject(new Error("CodeLm's server is not running (see CodeLm: Show Log)"));
    return this.client.sendRequest<R>(method, params);
  }

  /** A notification to the running server; dropped when none is up (what it reports is not worth an error). */
  notify(method: string, params: unknown): void {
    if (this.client === undefined || this.status.state === 'error') return;
    this.client.sendNotification(method, params).catch((error: unknown) => this.host.log(`${method}: ${String(error)}`));
  }

  /** Completions should be requested: enabled, and a server is up. */
  get isActive(): boolean {
    return this.current.enabled && this.client !== undefined && this.status.state !== 'error';
  }

  start(): Promise<void> {
    return this.serialized(() => this.startNow());
  }

  restart(): Promise<void> {
    return this.serialized(async () => {
      await this.stopNow();
      await this.startNow();
    });
  }

  stop(): Promise<void> {
    return this.serialized(() => this.stopNow());
  }

  /** Call on every configuration change that affects the `codelm` section. */
  configurationChanged(): Promise<void> {
    return this.serialized(async () => {
      const before = this.current;
      const after = this.host.readSettings();
      if (!after.enabled) {
        this.current = after;
        if (this.client !== undefined || before.enabled) await this.stopNow();
        this.status.setDisabled();
        return;
      }
      if (!before.enabled || this.client === undefined || needsRestart(before, after)) {
        await this.stopNow();
        await this.startNow();
        return;
      }
      this.current = after;
      if (serverSettingsChanged(before, after)) {
        this.host.log(`settings changed: ${JSON.stringify(didChangeConfigurationParams(after).settings.codelm)}`);
        await this.client.sendNotification('workspace/didChangeConfiguration', didChangeConfigurationParams(after));
      }
    });
  }

  async setEnabled(enabled: boolean): Promise<void> {
    await this.host.writeEnabled(enabled);
    // The configuration event does the same; doing it here too makes the command take effect even if
    // a workspace-level value shadows the user setting. Running it twice is harmless (nothing changes).
    await this.configurationChanged();
  }

  toggle(): Promise<void> {
    return this.setEnabled(!this.current.enabled);
  }

  async dispose(): Promise<void> {
    await this.stop();
  }

  private async startNow(): Promise<void> {
    const settings = this.host.readSettings();
    this.current = settings;
    if (!settings.enabled) {
      this.status.setDisabled();
      return;
    }
    const plan = this.host.planLaunch(settings);
    if (!plan.ok) {
      this.host.log(plan.message);
      this.status.setError(plan.message);
      void this.offer(plan.message, plan.setting);
      return;
    }
    this.status.setStarting();
    this.host.log(`starting: ${plan.command} ${plan.args.join(' ')}`);
    const client = this.host.createClient(plan, settings);
    this.client = client;
    this.clientState = client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === RUNNING) this.status.setReady();
      else if (e.newState === STOPPED) this.status.setError('the server stopped; see the log');
    });
    try {
      await client.start();
      if (this.client === client) this.status.setReady();
    } catch (error) {
      const message = `CodeLm: the server failed to start: ${error instanceof Error ? error.message : String(error)}`;
      this.host.log(message);
      if (this.client === client) {
        this.status.setError(message);
        void this.offer(message, 'codelm.serverPath');
      }
    }
  }

  private async stopNow(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientState?.dispose();
    this.clientState = undefined;
    this.onStopping();
    if (client === undefined) return;
    try {
      await client.stop(3000);
    } catch (error) {
      this.host.log(`stopping the server: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async offer(message: string, setting: string): Promise<void> {
    const choice = await this.host.showError(message, OPEN_SETTINGS, SHOW_LOG);
    if (choice === OPEN_SETTINGS) this.host.openSettings(setting);
    else if (choice === SHOW_LOG) this.host.showLog();
  }

  private serialized(op: () => Promise<void>): Promise<void> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
