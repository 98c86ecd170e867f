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

/** Latencies kept for the slow warning, and the fewest it judges on. */
const WINDOW = 20;
const MIN_SAMPLES = 5;

export class StatusController {
  private base: Exclude<StatusState, 'generating'> = 'starting';
  private detail = '';
  private inFlight = 0;
  private readonly latencies: number[] = [];

  /** `slowMs`: warn when the p95 of recent completion latencies is above it (0: never). */
  constructor(
    private readonly item: StatusItemLike,
    private readonly slowMs: () => number = () => 0,
  ) {
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

  /** A completion's latency, for the slow warning. */
  latency(ms: number): void {
    this.latencies.push(ms);
    if (this.latencies.length > WINDOW) this.latencies.shift();
    this.render();
  }

  /** The p95 of recent latencies when it is over the threshold, else undefined. */
  get slowP95(): number | undefined {
    const limit = this.slowMs();
    if (limit <= 0 || this.latencies.length < MIN_SAMPLES) return undefined;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
    return p95 > limit ? p95 : undefined;
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
    const slow = state === 'ready' || state === 'generating' ? this.slowP95 : undefined;
    this.item.text = slow === undefined ? `${ICONS[state]} CodeLm` : `$(warning) CodeLm`;
    this.item.tooltip =
      slow !== undefined
        ? `CodeLm: completions are slow (p95 ${Math.round(slow)} ms over the last ${this.latencies.length}). ` +
          'Try a smaller model, `codelm serve --precision int8`, or a lower "CodeLm: Max New Tokens".'
        : state === 'generating'
          ? 'CodeLm: generating a completion'
          : `CodeLm: ${this.detail}`;
    this.item.accessibilityInformation = { label: `CodeLm: ${state}${slow === undefined ? '' : ' (slow)'}` };
    // Clicking shows the log when something is wrong, otherwise toggles completions.
    this.item.command = state === 'error' ? 'codelm.showLog' : 'codelm.toggle';
  }
}
