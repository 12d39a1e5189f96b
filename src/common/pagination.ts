import { ValidationError } from '../errors/app-errors';

/**
 * Keyset pagination, in one place: pages of rows ordered by id, with opaque cursors (base64 of the
 * id). Services page with it; the GraphQL layer only shapes the result (graphql/connection.ts).
 */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface Page<T> {
  nodes: T[];
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export function encodeCursor(id: number): string {
  return Buffer.from(`id:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): number | null {
  const match = /^id:(\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : null;
}

/** The page size and the id after which (or before which) a page starts, checked. */
export function pageRequest(first: number | undefined, after: string | null | undefined) {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new ValidationError(`first must be from 1 to ${MAX_PAGE_SIZE}`, { field: 'first' });
  }
  const cursorId = after == null ? null : decodeCursor(after);
  if (after != null && cursorId === null)
    throw new ValidationError('after is not a cursor from this API', { field: 'after' });
  return { size, cursorId };
}

/** A page from `size + 1` rows read in page order (one more than the page tells if another follows). */
export function toPage<T>(rows: T[], size: number, idOf: (row: T) => number): Page<T> {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(idOf(node)), node }));
  return {
    nodes,
    edges,
    pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
  };
}
