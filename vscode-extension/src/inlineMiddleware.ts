// The language client's middleware for textDocument/inlineCompletion: debounce, drop stale requests,
// and drive the status bar's "generating" state around the real request.
import { TokenLike } from './cancellation';
import { RequestGate } from './requestGate';

export interface RequestObserver {
  requestStarted(): void;
  requestEnded(): void;
}

export interface InlineMiddlewareDeps<C> {
  readonly gate: RequestGate;
  readonly observer: RequestObserver;
  /** Completions are on and the server is running. */
  isActive(): boolean;
  /** The user asked for this completion (InlineCompletionTriggerKind.Invoke): no debounce. */
  isExplicit(context: C): boolean;
  /** Completions only when asked for (the `codelm.trigger` setting is "manual"): typing alone requests nothing. */
  isManualOnly(): boolean;
}

export type Next<D, P, C, T, R> = (document: D, position: P, context: C, token: T) => R | undefined | null | Thenable<R | undefined | null>;

export function createInlineCompletionMiddleware<D, P, C, T extends TokenLike, R>(deps: InlineMiddlewareDeps<C>) {
  return async (document: D, position: P, context: C, token: T, next: Next<D, P, C, T, R>): Promise<R | null> => {
    if (!deps.isActive()) return null;
    const explicit = deps.isExplicit(context);
    if (deps.isManualOnly() && !explicit) return null;
    const requestToken = await deps.gate.admit(token, explicit);
    if (requestToken === undefined || !deps.isActive()) return null;
    deps.observer.requestStarted();
    try {
      const result = await next(document, position, context, requestToken as T);
      return requestToken.isCancellationRequested ? null : (result ?? null);
    } finally {
      deps.observer.requestEnded();
      deps.gate.finish(requestToken);
    }
  };
}
