/**
 * Where the lines whose delivery mark may still change are on the terminal: for each, how many
 * rows lie between its first row and the row the prompt starts on. The screen asks it whether
 * a line can still be reached by moving the cursor up. Pure.
 *
 * @module
 */

/**
 * Lines further up than this many rows are forgotten as more is printed: no terminal is that
 * tall, and a line whose mark may change much later (a message stored for someone offline)
 * must not cost every later print.
 */
export const MAX_TRACKED_ROWS = 1000;

/** The rows above the prompt of each tracked line, by the line's id. */
export class LineTracker {
  readonly #above = new Map<number, number>();

  /** Text of `rows` rows was printed above the prompt; with `id`, that text is tracked. */
  printed(rows: number, id?: number): void {
    for (const [key, above] of this.#above) {
      if (above + rows > MAX_TRACKED_ROWS) this.#above.delete(key);
      else this.#above.set(key, above + rows);
    }
    if (id !== undefined) this.#above.set(id, rows);
  }

  /**
   * How many rows up from the prompt's first row the first row of line `id` is, or null when
   * it is not tracked or no longer on a screen of `screenRows` rows whose last `promptRows`
   * rows the prompt takes. Stops tracking it unless `keep` (its mark may change again); a line
   * off the screen is never tracked again.
   */
  take(id: number, screenRows: number, promptRows: number, keep = false): number | null {
    const above = this.#above.get(id);
    if (above === undefined || above > screenRows - promptRows) {
      this.#above.delete(id);
      return null;
    }
    if (!keep) this.#above.delete(id);
    return above;
  }

  /** How many lines are tracked. */
  get size(): number {
    return this.#above.size;
  }

  /** Forgets every line (the screen was cleared, or resized so that rows rewrapped). */
  clear(): void {
    this.#above.clear();
  }
}
