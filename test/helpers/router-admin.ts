import { RouterSessionPool, type RosRow } from '../../src/router';
import { targetFor } from '../router/router-fixtures';
import type { SimulatedRouter } from '../simulator/simulated-router';

/**
 * An admin at the router's API (as in WinBox or a script): runs raw commands over the wire with the
 * real routeros-api client, on a session of its own, so tests change the router the way people do.
 */
export class RouterAdmin {
  private readonly pool = new RouterSessionPool({ defaultTimeoutMs: 3000 });
  private readonly target;

  constructor(sim: SimulatedRouter) {
    this.target = targetFor(sim);
  }

  run(words: string[]): Promise<RosRow[]> {
    return this.pool.run(this.target, words);
  }

  /** The `.id` of the item of `menu` named `name`. */
  async idOf(menu: string, name: string): Promise<string> {
    const [row] = await this.run([`${menu}/print`, `?name=${name}`, '=.proplist=.id']);
    if (!row) throw new Error(`no ${menu} named ${name}`);
    return row['.id'];
  }

  close(): Promise<void> {
    return this.pool.closeAll();
  }
}
