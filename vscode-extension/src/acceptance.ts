// What became of each completion in the editor, told to the server as `codelm/event` notifications for the local
// acceptance log (`codelm stats`). VS Code's stable API reports only a full accept (the item's command), so a partial
// accept is read from the edit it makes: two or more characters of a shown item inserted at once where it was shown.
// One character at a time is typing along; any other edit there dismisses it.

export type EventKind = 'shown' | 'accepted' | 'partial' | 'dismissed' | 'superseded';

export interface CompletionEvent {
  kind: EventKind;
  languageId: string;
  latencyMs?: number;
  chars?: number;
}

interface Shown {
  uri: string;
  offset: number;
  languageId: string;
  /** What is left of each item after the text typed along or accepted since. */
  texts: string[];
}

export class AcceptanceTracker {
  private shownNow: Shown | undefined;

  constructor(private readonly send: (event: CompletionEvent) => void) {}

  /** Items reached the editor at `offset` of `uri` after `latencyMs`; an earlier item still shown was dismissed. */
  shown(uri: string, offset: number, texts: string[], languageId: string, latencyMs: number): void {
    if (texts.length === 0) return;
    const before = this.shownNow;
    // The same items again, moved along by what was typed (the server answers those from what it showed): still one.
    if (before !== undefined && before.uri === uri && before.offset === offset && sameTexts(before.texts, texts)) return;
    this.dismiss();
    this.shownNow = { uri, offset, languageId, texts: [...texts] };
    this.send({ kind: 'shown', languageId, latencyMs: Math.round(latencyMs) });
  }

  /** The editor accepted an item whole (its command ran); `text` is the item as it was shown. */
  accepted(text: string, languageId: string): void {
    this.shownNow = undefined;
    this.send({ kind: 'accepted', languageId, chars: text.length });
  }

  /** A change to `uri`: `removed` characters at `offset` replaced by `inserted`. */
  changed(uri: string, offset: number, removed: number, inserted: string): void {
    const s = this.shownNow;
    if (s === undefined || s.uri !== uri) return;
    if (offset === s.offset && removed === 0 && inserted.length > 0) {
      const rest = s.texts.filter((t) => t.length > inserted.length && t.startsWith(inserted));
      if (rest.length > 0) {
        if (inserted.length >= 2) this.send({ kind: 'partial', languageId: s.languageId, chars: inserted.length });
        s.offset += inserted.length;
        s.texts = rest.map((t) => t.slice(inserted.length));
        return;
      }
      // A whole item inserted: the accept command reports it.
      if (s.texts.includes(inserted)) return;
    }
    this.dismiss();
  }

  /** A request already sent to the server was cancelled by a newer keystroke. */
  superseded(languageId: string): void {
    this.send({ kind: 'superseded', languageId });
  }

  /** The user went on without the item shown (another edit, or another completion). */
  dismiss(): void {
    const s = this.shownNow;
    this.shownNow = undefined;
    if (s !== undefined) this.send({ kind: 'dismissed', languageId: s.languageId });
  }
}

function sameTexts(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
