// A cancellation source that follows a parent token: cancelled when the parent is, or when we say so.
// It has the shape of vscode.CancellationToken, so the language client can pass it on to the server
// as `$/cancelRequest` without this module depending on the vscode API.

export interface Disposable {
  dispose(): void;
}

export interface TokenLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): Disposable;
}

export class LinkedCancellation {
  private cancelled = false;
  private readonly listeners = new Set<() => void>();
  private readonly parentSubscription: Disposable | undefined;
  readonly token: TokenLike;

  constructor(parent?: TokenLike) {
    const isCancelled = (): boolean => this.cancelled;
    const subscribe = (listener: () => void): Disposable => {
      if (this.cancelled) {
        queueMicrotask(listener);
        return { dispose: () => undefined };
      }
      this.listeners.add(listener);
      return { dispose: () => void this.listeners.delete(listener) };
    };
    this.token = {
      get isCancellationRequested() {
        return isCancelled();
      },
      onCancellationRequested: subscribe,
    };
    this.parentSubscription = parent?.onCancellationRequested(() => this.cancel());
    if (parent?.isCancellationRequested === true) this.cancel();
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
    this.parentSubscription?.dispose();
  }

  dispose(): void {
    this.listeners.clear();
    this.parentSubscription?.dispose();
  }
}
