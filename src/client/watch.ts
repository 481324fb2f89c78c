/**
 * Waiting for a condition on a session's state: each wait checks its condition whenever the
 * session says something changed. Uses the global `setTimeout` only.
 *
 * @module
 */

/** Conditions waited for, checked on each {@link Watch.changed}. */
export class Watch {
  readonly #checks = new Set<() => void>();

  /**
   * Resolves once `done()` holds (checked now and after each {@link changed}), or after
   * `timeoutMs` (never, when infinite).
   */
  async until(done: () => boolean, timeoutMs: number): Promise<void> {
    if (done()) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    const check = () => {
      if (done()) resolve();
    };
    this.#checks.add(check);
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(resolve, Math.max(0, timeoutMs))
      : undefined;
    try {
      await promise;
    } finally {
      clearTimeout(timer);
      this.#checks.delete(check);
    }
  }

  /** Something changed: checks every condition waited for. */
  changed(): void {
    for (const check of [...this.#checks]) check();
  }
}
