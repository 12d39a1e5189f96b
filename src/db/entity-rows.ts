import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Reads whole entities with SQL written once, for hot read paths: `findOne` builds its statement
 * anew on every call (aliases, find options, property-name rewriting) and costs more CPU than the
 * query it sends. The SELECT list is every column of the entity, built from TypeORM's own metadata
 * when the reader is made; each row is hydrated with the driver's own conversion (dates, booleans,
 * JSON, column transformers), so an entity read here is the one `findOne` would return. Relations
 * are not loaded, as with `findOne` without `relations`.
 */
export interface EntityRows<T> {
  /** `SELECT <every column> FROM <table> <rest>`; `rest` is the WHERE/ORDER/LIMIT part, with `?` placeholders. */
  select(rest: string): string;
  /** One row of {@link select} as the entity. */
  hydrate(row: Record<string, unknown>): T;
  /** Runs {@link select} and hydrates every row. */
  query(rest: string, parameters: unknown[]): Promise<T[]>;
}

export function entityRows<T extends ObjectLiteral>(db: DataSource, target: EntityTarget<T>): EntityRows<T> {
  // Built at first use: services are made before the data source has loaded its metadata.
  let built: { select: (rest: string) => string; hydrate: (row: Record<string, unknown>) => T } | undefined;
  const build = () => {
    if (built) return built;
    const metadata = db.getMetadata(target);
    const columns = metadata.columns;
    const escape = (name: string) => db.driver.escape(name);
    const list = columns.map((c) => escape(c.databaseName)).join(', ');
    const from = escape(metadata.tableName);
    built = {
      select: (rest) => `SELECT ${list} FROM ${from} ${rest}`,
      hydrate: (row) => {
        const entity = metadata.create() as T;
        for (const column of columns)
          column.setEntityValue(entity, db.driver.prepareHydratedValue(row[column.databaseName], column));
        return entity;
      },
    };
    return built;
  };
  return {
    select: (rest) => build().select(rest),
    hydrate: (row) => build().hydrate(row),
    async query(rest, parameters) {
      const { select, hydrate } = build();
      const rows = (await db.query(select(rest), parameters)) as Record<string, unknown>[];
      return rows.map(hydrate);
    },
  };
}
