import { RosTrap, type RouterState } from './router-state';

/**
 * What every simulated menu is made of: the {@link MenuSpec} that the generic verbs (print, add, set,
 * enable, disable, remove, reset-counters) drive, and the attribute parsing shared by all menus, with
 * RouterOS's own error texts.
 */

/** One row as print renders it: ordered property name → value (strings only, as on the wire). */
export type RenderedRow = Map<string, string>;

export interface MenuSpec {
  verbs: readonly string[];
  /** Menus keyed by name accept the name in place of the id in `numbers`. */
  nameKeyed: boolean;
  render(state: RouterState): RenderedRow[];
  add?(state: RouterState, attributes: Map<string, string>): string;
  set?(state: RouterState, id: string, attributes: Map<string, string>): void;
  remove?(state: RouterState, id: string): void;
  /** Name → id lookup for `numbers`. */
  idByName?(state: RouterState, name: string): string | undefined;
  exists?(state: RouterState, id: string): boolean;
  resetCounters?(state: RouterState, id: string | null): void;
}

export function parseBool(name: string, value: string): boolean {
  if (value === 'yes' || value === 'true') return true;
  if (value === 'no' || value === 'false') return false;
  throw new RosTrap(`invalid value for argument ${name}`, 1);
}

export function parseInteger(name: string, value: string): string {
  if (/^\d+$/.test(value)) return BigInt(value).toString();
  throw new RosTrap(`invalid value for argument ${name}`, 1);
}

export type Setter<T> = (row: T, value: string, state: RouterState) => void;

/** Applies `attributes` through `setters`; any name without a setter is an unknown parameter. */
export function applyAttributes<T>(
  row: T,
  attributes: Map<string, string>,
  setters: Record<string, Setter<T>>,
  state: RouterState,
): void {
  for (const name of attributes.keys()) {
    if (!(name in setters)) throw new RosTrap(`unknown parameter ${name}`);
  }
  for (const [name, value] of attributes) setters[name](row, value, state);
}
