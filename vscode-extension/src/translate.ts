// "CodeLm: Translate Selection to…": the selection (or the whole file) sent to the server's codelm/translate request,
// the answer opened beside it as a new document in the target language. vscode-specific parts come in through
// TranslateUi, so the flow is tested without an editor.

/** A language the command offers: the name the server knows and the editor's language id for the new document. */
export interface TranslateTarget {
  label: string;
  languageId: string;
}

export const TRANSLATE_TARGETS: readonly TranslateTarget[] = [
  { label: 'Python', languageId: 'python' },
  { label: 'C++', languageId: 'cpp' },
  { label: 'Java', languageId: 'java' },
  { label: 'JavaScript', languageId: 'javascript' },
  { label: 'TypeScript', languageId: 'typescript' },
  { label: 'Go', languageId: 'go' },
  { label: 'Rust', languageId: 'rust' },
  { label: 'C#', languageId: 'csharp' },
];

export interface TranslateParams {
  text: string;
  languageId: string;
  to: string;
}

export interface TranslateResult {
  text: string;
  from: string;
  to: string;
}

export interface TranslateUi {
  /** The selected text, or the whole document when nothing is selected; undefined without an editor. */
  source(): { text: string; languageId: string } | undefined;
  pickTarget(targets: readonly TranslateTarget[]): PromiseLike<TranslateTarget | undefined>;
  /** Runs the request under a progress notification the user can see. */
  withProgress<T>(title: string, work: () => Promise<T>): PromiseLike<T>;
  openBeside(text: string, languageId: string): PromiseLike<void>;
  showError(message: string): void;
}

export async function translateSelection(
  ui: TranslateUi,
  request: (params: TranslateParams) => Promise<TranslateResult>,
): Promise<void> {
  const source = ui.source();
  if (source === undefined || source.text.trim() === '') {
    ui.showError('CodeLm: select the code to translate first.');
    return;
  }
  const targets = TRANSLATE_TARGETS.filter((t) => t.languageId !== source.languageId);
  const target = await ui.pickTarget(targets);
  if (target === undefined) return;
  try {
    const result = await ui.withProgress(`CodeLm: translating to ${target.label}…`, () =>
      request({ text: source.text, languageId: source.languageId, to: target.label }),
    );
    await ui.openBeside(result.text, target.languageId);
  } catch (e) {
    ui.showError(`CodeLm: translation failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
