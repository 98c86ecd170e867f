// The extension's settings: read from the `codelm` configuration section, clamped to sane ranges,
// and turned into the payloads the server understands (initializationOptions and didChangeConfiguration).

export interface CodeLmSettings {
  readonly enabled: boolean;
  readonly serverPath: string;
  readonly checkpointPath: string;
  /** An OpenAI-compatible server's /v1 URL (vLLM, llama.cpp's server, `codelm serve --http`): used instead of the checkpoint. */
  readonly backendUrl: string;
  /** The model's name on that server. */
  readonly backendModel: string;
  readonly enabledLanguages: readonly string[];
  readonly maxNewTokens: number;
  readonly temperature: number;
  readonly debounceMs: number;
  readonly contextBudget: number;
  /** "automatic": ghost text while typing; "manual": only on the Trigger Completion keybinding (Alt+\\). */
  readonly trigger: 'automatic' | 'manual';
  /** Most candidates to cycle through (Alt+] / Alt+[); 1 turns cycling off. */
  readonly candidates: number;
  /** "onCycle": the extras are generated on the first cycle; "eager": with every completion. */
  readonly candidateMode: 'onCycle' | 'eager';
  /** Temperature of the extra candidates. */
  readonly candidateTemperature: number;
  /** Parts of other open files before the prompt, and how many tokens of them. */
  readonly repoContext: boolean;
  readonly repoContextTokens: number;
  /** Start the server with --verbose: every completion, and the context files it used, in the CodeLm log. */
  readonly verboseLog: boolean;
  /** Report shown/accepted/dismissed completions to the server's local log for `codelm stats`. */
  readonly acceptanceLog: boolean;
  /** Warn in the status bar when the p95 latency of recent completions is above this (0: never). */
  readonly slowThresholdMs: number;
}

/** What the server reads, under `initializationOptions` and `{ codelm: ... }` in didChangeConfiguration. */
export interface ServerSettings {
  maxNewTokens: number;
  temperature: number;
  contextBudget: number;
  enabledLanguages: string[];
  candidates: number;
  candidateMode: 'onCycle' | 'eager';
  candidateTemperature: number;
  repoContext: boolean;
  repoContextTokens: number;
  acceptanceLog: boolean;
}

/** The slice of `vscode.WorkspaceConfiguration` used here. */
export interface ConfigReader {
  get<T>(key: string): T | undefined;
}

export const SECTION = 'codelm';

// Must match the defaults in package.json's contributes.configuration (a unit test checks).
export const DEFAULTS: CodeLmSettings = {
  enabled: true,
  serverPath: 'codelm',
  checkpointPath: '',
  backendUrl: '',
  backendModel: '',
  enabledLanguages: ['python', 'csharp', 'javascript', 'typescript', 'java', 'go', 'rust', 'cpp', 'c'],
  maxNewTokens: 64,
  temperature: 0,
  debounceMs: 200,
  contextBudget: 1024,
  trigger: 'automatic',
  candidates: 3,
  candidateMode: 'onCycle',
  candidateTemperature: 0.8,
  repoContext: true,
  repoContextTokens: 512,
  verboseLog: false,
  acceptanceLog: true,
  slowThresholdMs: 2000,
};

export function readSettings(config: ConfigReader): CodeLmSettings {
  const languages = config.get<unknown>('enabledLanguages');
  return {
    enabled: typeof config.get('enabled') === 'boolean' ? (config.get<boolean>('enabled') as boolean) : DEFAULTS.enabled,
    serverPath: trimmedOr(config.get('serverPath'), DEFAULTS.serverPath),
    checkpointPath: trimmedOr(config.get('checkpointPath'), DEFAULTS.checkpointPath),
    backendUrl: trimmedOr(config.get('backendUrl'), DEFAULTS.backendUrl),
    backendModel: trimmedOr(config.get('backendModel'), DEFAULTS.backendModel),
    enabledLanguages: Array.isArray(languages)
      ? [...new Set(languages.filter((l): l is string => typeof l === 'string').map((l) => l.trim()).filter((l) => l.length > 0))]
      : DEFAULTS.enabledLanguages,
    maxNewTokens: clampInt(config.get('maxNewTokens'), 1, 1024, DEFAULTS.maxNewTokens),
    temperature: clampNumber(config.get('temperature'), 0, 2, DEFAULTS.temperature),
    debounceMs: clampInt(config.get('debounceMs'), 0, 5000, DEFAULTS.debounceMs),
    contextBudget: clampInt(config.get('contextBudget'), 32, 32768, DEFAULTS.contextBudget),
    trigger: config.get('trigger') === 'manual' ? 'manual' : DEFAULTS.trigger,
    candidates: clampInt(config.get('candidates'), 1, 8, DEFAULTS.candidates),
    candidateMode: config.get('candidateMode') === 'eager' ? 'eager' : DEFAULTS.candidateMode,
    candidateTemperature: clampNumber(config.get('candidateTemperature'), 0.05, 2, DEFAULTS.candidateTemperature),
    repoContext: typeof config.get('repoContext') === 'boolean' ? (config.get<boolean>('repoContext') as boolean) : DEFAULTS.repoContext,
    repoContextTokens: clampInt(config.get('repoContextTokens'), 0, 8192, DEFAULTS.repoContextTokens),
    verboseLog: config.get('verboseLog') === true,
    acceptanceLog: typeof config.get('acceptanceLog') === 'boolean' ? (config.get<boolean>('acceptanceLog') as boolean) : DEFAULTS.acceptanceLog,
    slowThresholdMs: clampInt(config.get('slowThresholdMs'), 0, 60000, DEFAULTS.slowThresholdMs),
  };
}

export function serverSettings(settings: CodeLmSettings): ServerSettings {
  return {
    maxNewTokens: settings.maxNewTokens,
    temperature: settings.temperature,
    contextBudget: settings.contextBudget,
    enabledLanguages: [...settings.enabledLanguages],
    candidates: settings.candidates,
    candidateMode: settings.candidateMode,
    candidateTemperature: settings.candidateTemperature,
    repoContext: settings.repoContext,
    repoContextTokens: settings.repoContextTokens,
    acceptanceLog: settings.acceptanceLog,
  };
}

/** Params of `workspace/didChangeConfiguration`: the server reads `settings.codelm`. */
export function didChangeConfigurationParams(settings: CodeLmSettings): { settings: { codelm: ServerSettings } } {
  return { settings: { codelm: serverSettings(settings) } };
}

/** Changes the running server cannot take over didChangeConfiguration: they need a new process or document selector. */
export function needsRestart(before: CodeLmSettings, after: CodeLmSettings): boolean {
  return (
    before.serverPath !== after.serverPath ||
    before.checkpointPath !== after.checkpointPath ||
    before.backendUrl !== after.backendUrl ||
    before.backendModel !== after.backendModel ||
    before.verboseLog !== after.verboseLog ||
    before.enabledLanguages.join('\n') !== after.enabledLanguages.join('\n')
  );
}

export function serverSettingsChanged(before: CodeLmSettings, after: CodeLmSettings): boolean {
  return JSON.stringify(serverSettings(before)) !== JSON.stringify(serverSettings(after));
}

function trimmedOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : fallback;
}

function clampNumber(value: unknown, min: number, max: number, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, value));
}

function clampInt(value: unknown, min: number, max: number, fallback: number): number {
  return Math.round(clampNumber(value, min, max, fallback));
}
