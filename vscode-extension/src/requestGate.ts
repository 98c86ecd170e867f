// Client-side debounce for completion requests: a request waits `delayMs` before it reaches the server,
// and each new request cancels the one before it (still waiting, or already sent: the language client
// turns the cancellation into `$/cancelRequest`, so the server stops generating a stale completion).
import { LinkedCancellation, TokenLike } from './cancellation';

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class RequestGate {
  private current: LinkedCancellation | undefined;

  constructor(
    private readonly delayMs: () => number,
    private readonly timers: Timers = realTimers,
  ) {}

  /**
   * Resolves with the token to send the request with, or undefined when the request went stale
   * (a newer one arrived, or the editor cancelled it) before its debounce delay ran out.
   * `immediate` skips the delay (an explicit trigger), but still supersedes the previous request.
   */
  admit(parent: TokenLike, immediate = false): Promise<TokenLike | undefined> {
    this.current?.cancel();
    const cancellation = new LinkedCancellation(parent);
    this.current = cancellation;
    if (cancellation.isCancelled) return Promise.resolve(undefined);
    const delay = immediate ? 0 : Math.max(0, this.delayMs());
    if (delay === 0) return Promise.resolve(cancellation.token);
    return new Promise((resolve) => {
      const subscription = cancellation.token.onCancellationRequested(() => {
        this.timers.clearTimeout(timer);
        resolve(undefined);
      });
      const timer = this.timers.setTimeout(() => {
        subscription.dispose();
        resolve(cancellation.isCancelled ? undefined : cancellation.token);
      }, delay);
    });
  }

  /** The request that got `token` is done; forget it so it is not cancelled later for nothing. */
  finish(token: TokenLike): void {
    if (this.current !== undefined && this.current.token === token) {
      this.current.dispose();
      this.current = undefined;
    }
  }

  /** Cancels whatever is waiting or in flight (on disable, restart, shutdown). */
  cancelAll(): void {
    this.current?.cancel();
    this.current = undefined;
  }
}
