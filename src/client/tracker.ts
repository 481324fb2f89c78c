/**
 * Where the lines whose delivery mark may still change are on the terminal: for each, how many
 * rows lie between its first row and the row the prompt starts on. The screen asks it whether
 * a line can still be reached by moving the cursor up. Pure.
 *
 * @module
 */

/** The rows above the prompt of each tracked line, by the line's id. */
export class LineTracker {
  readonly #above = new Map<number, number>();

  /** Text of `rows` rows was printed above the prompt; with `id`, that text is tracked. */
  printed(rows: number, id?: number): void {
    for (const [key, above] of this.#above) this.#above.set(key, above + rows);
    if (id !== undefined) this.#above.set(id, rows);
  }

  /**
   * Stops tracking line `id`; returns how many rows up from the prompt's first row its first
   * row is, or null when it is not tracked or no longer on a screen of `screenRows` rows whose
   * last `promptRows` rows the prompt takes.
   */
  take(id: number, screenRows: number, promptRows: number): number | null {
    const above = this.#above.get(id);
    this.#above.delete(id);
    if (above === undefined || above > screenRows - promptRows) return null;
    return above;
  }

  /** Forgets every line (the screen was cleared, or resized so that rows rewrapped). */
  clear(): void {
    this.#above.clear();
  }
}
