/**
 * List helpers for the hot path.
 *
 * @module
 */

/**
 * Takes the first element off `list`. A list that `shift` empties loses its storage in V8, and
 * the next `push` allocates it again; one that `pop` empties keeps it. The queues of the hot path
 * hold one item most of the time (an answer owed, a FORWARD waiting), so `shift` alone would
 * allocate on every message.
 */
export function takeFirst<T>(list: T[]): T | undefined {
  return list.length === 1 ? list.pop() : list.shift();
}
