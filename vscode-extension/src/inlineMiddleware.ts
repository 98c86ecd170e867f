// The language client's middleware for textDocument/inlineCompletion: debounce, drop stale requests,
// and drive the status bar's "generating" state around the real request.
import { TokenLike } from './cancellation';
import { RequestGate } from './requestGate';

export interface RequestObserver {
  requestStarted(): void;
  requestEnded(): void;
}

export interface InlineMiddlewareDeps<D, P, C, R> {
  readonly gate: RequestGate;
  readonly observer: RequestObserver;
  /** Completions are on and the server is running. */
  isActive(): boolean;
  /** The user asked for this completion (InlineCompletionTriggerKind.Invoke): no debounce. */
  isExplicit(context: C): boolean;
  /** Completions only when asked for (the `codelm.trigger` setting is "manual"): typing alone requests nothing. */
  isManualOnly(): boolean;
  /** The server answered after `latencyMs` and the answer is used: returns what to give the editor. */
  answered?(document: D, position: P, result: R, latencyMs: number): R;
  /** A request the server already had was cancelled by a newer one, or by the editor. */
  superseded?(document: D): void;
}

export type Next<D, P, C, T, R> = (document: D, position: P, context: C, token: T) => R | undefined | null | Thenable<R | undefined | null>;

export function createInlineCompletionMiddleware<D, P, C, T extends TokenLike, R>(deps: InlineMiddlewareDeps<D, P, C, R>) {
  return async (document: D, position: P, context: C, token: T, next: Next<D, P, C, T, R>): Promise<R | null> => {
    if (!deps.isActive()) return null;
    const explicit = deps.isExplicit(context);
    if (deps.isManualOnly() && !explicit) return null;
    const requestToken = await deps.gate.admit(token, explicit);
    if (requestToken === undefined || !deps.isActive()) return null;
    deps.observer.requestStarted();
    const started = Date.now();
    try {
      const result = await next(document, position, context, requestToken as T);
      if (requestToken.isCancellationRequested) {
        deps.superseded?.(document);
        return null;
      }
      if (result === undefined || result === null) return null;
      return deps.answered ? deps.answered(document, position, result, Date.now() - started) : result;
    } finally {
      deps.observer.requestEnded();
      deps.gate.finish(requestToken);
    }
  };
}
