// The status bar item: ready / generating / error / disabled (plus starting while the server boots).

export type StatusState = 'starting' | 'ready' | 'generating' | 'error' | 'disabled';

/** The slice of vscode.StatusBarItem used here. */
export interface StatusItemLike {
  text: string;
  tooltip: string | undefined | unknown;
  command: string | undefined | unknown;
  accessibilityInformation?: { label: string; role?: string } | undefined;
  show(): void;
}

const ICONS: Record<StatusState, string> = {
  starting: '$(loading~spin)',
  ready: '$(check)',
  generating: '$(sync~spin)',
  error: '$(error)',
  disabled: '$(circle-slash)',
};

export class StatusController {
  private base: Exclude<StatusState, 'generating'> = 'starting';
  private detail = '';
  private inFlight = 0;

  constructor(private readonly item: StatusItemLike) {
    this.render();
    item.show();
  }

  get state(): StatusState {
    return this.base === 'ready' && this.inFlight > 0 ? 'generating' : this.base;
  }

  setStarting(): void {
    this.set('starting', 'starting the server');
  }
  setReady(): void {
    this.set('ready', 'ready');
  }
  setDisabled(): void {
    this.inFlight = 0;
    this.set('disabled', 'completions are disabled');
  }
  setError(detail: string): void {
    this.inFlight = 0;
    this.set('error', detail);
  }

  requestStarted(): void {
    this.inFlight++;
    this.render();
  }
  requestEnded(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.render();
  }

  private set(base: Exclude<StatusState, 'generating'>, detail: string): void {
    this.base = base;
    this.detail = detail;
    this.render();
  }

  private render(): void {
    const state = this.state;
    this.item.text = `${ICONS[state]} CodeLm`;
    this.item.tooltip = state === 'generating' ? 'CodeLm: generating a completion' : `CodeLm: ${this.detail}`;
    this.item.accessibilityInformation = { label: `CodeLm: ${state}` };
    // Clicking shows the log when something is wrong, otherwise toggles completions.
    this.item.command = state === 'error' ? 'codelm.showLog' : 'codelm.toggle';
  }
}
