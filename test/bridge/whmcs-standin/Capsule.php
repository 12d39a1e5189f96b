<?php
/**
 * Test equipment: the part of WHMCS's `WHMCS\Database\Capsule` (Laravel's query builder) that the
 * module uses, over PDO on the test database. Same method names and semantics for that subset:
 * table()->where()->whereIn()->join()->orderBy()->select()->first()/get()/value()/update()/insert().
 */

namespace WHMCS\Database;

class Capsule
{
    /** @var \PDO|null */
    private static $pdo = null;

    public static function setPdo(\PDO $pdo): void
    {
        self::$pdo = $pdo;
    }

    public static function pdo(): \PDO
    {
        if (self::$pdo === null) {
            throw new \RuntimeException('Capsule stand-in has no PDO connection');
        }
        return self::$pdo;
    }

    public static function table(string $table): QueryBuilder
    {
        return new QueryBuilder(self::pdo(), $table);
    }

    public static function connection(): Connection
    {
        return new Connection(self::pdo());
    }
}

class Connection
{
    /** @var \PDO */
    private $pdo;

    public function __construct(\PDO $pdo)
    {
        $this->pdo = $pdo;
    }

    public function getPdo(): \PDO
    {
        return $this->pdo;
    }

    public function transaction(callable $work)
    {
        $this->pdo->beginTransaction();
        try {
            $result = $work($this);
            $this->pdo->commit();
            return $result;
        } catch (\Throwable $e) {
            $this->pdo->rollBack();
            throw $e;
        }
    }
}

class Collection implements \IteratorAggregate, \Countable
{
    /** @var array<int,mixed> */
    private $items;

    public function __construct(array $items)
    {
        $this->items = $items;
    }

    public function all(): array
    {
        return $this->items;
    }

    public function first()
    {
        return $this->items ? $this->items[0] : null;
    }

    public function isEmpty(): bool
    {
        return !$this->items;
    }

    public function count(): int
    {
        return count($this->items);
    }

    public function getIterator(): \Iterator
    {
        return new \ArrayIterator($this->items);
    }
}

class QueryBuilder
{
    /** @var \PDO */
    private $pdo;
    /** @var string */
    private $table;
    /** @var array<int,string> */
    private $wheres = [];
    /** @var array<int,mixed> */
    private $bindings = [];
    /** @var array<int,string> */
    private $joins = [];
    /** @var array<int,string> */
    private $orders = [];
    /** @var array<int,string> */
    private $columns = ['*'];
    /** @var int|null */
    private $limit = null;

    public function __construct(\PDO $pdo, string $table)
    {
        $this->pdo = $pdo;
        $this->table = $table;
    }

    private static function quote(string $column): string
    {
        if ($column === '*') {
            return '*';
        }
        return implode('.', array_map(function ($part) {
            return $part === '*' ? '*' : '`' . str_replace('`', '', $part) . '`';
        }, explode('.', $column)));
    }

    public function where($column, $operator = null, $value = null): self
    {
        if (func_num_args() === 2) {
            $value = $operator;
            $operator = '=';
        }
        $operator = strtoupper((string) $operator);
        if (!in_array($operator, ['=', '<>', '!=', '<', '>', '<=', '>=', 'LIKE'], true)) {
            throw new \InvalidArgumentException('unsupported operator ' . $operator);
        }
        if ($value === null) {
            $this->wheres[] = self::quote($column) . ($operator === '=' ? ' IS NULL' : ' IS NOT NULL');
        } else {
            $this->wheres[] = self::quote($column) . ' ' . $operator . ' ?';
            $this->bindings[] = $value;
        }
        return $this;
    }

    public function whereIn(string $column, array $values): self
    {
        if (!$values) {
            $this->wheres[] = '0 = 1';
            return $this;
        }
        $this->wheres[] = self::quote($column) . ' IN (' . implode(',', array_fill(0, count($values), '?')) . ')';
        foreach ($values as $v) {
            $this->bindings[] = $v;
        }
        return $this;
    }

    public function join(string $table, string $first, string $operator, string $second): self
    {
        $this->joins[] = 'JOIN ' . self::quote($table) . ' ON ' . self::quote($first) . ' ' . $operator . ' ' . self::quote($second);
        return $this;
    }

    public function orderBy(string $column, string $direction = 'asc'): self
    {
        $this->orders[] = self::quote($column) . (strtolower($direction) === 'desc' ? ' DESC' : ' ASC');
        return $this;
    }

    public function select(...$columns): self
    {
        $this->columns = is_array($columns[0] ?? null) ? $columns[0] : $columns;
        return $this;
    }

    public function limit(int $n): self
    {
        $this->limit = $n;
        return $this;
    }

    private function whereSql(): string
    {
        return $this->wheres ? ' WHERE ' . implode(' AND ', $this->wheres) : '';
    }

    private function run(string $sql, array $bindings): \PDOStatement
    {
        $statement = $this->pdo->prepare($sql);
        $statement->execute($bindings);
        return $statement;
    }

    public function get($columns = null): Collection
    {
        if ($columns !== null) {
            $this->select(...(array) $columns);
        }
        $cols = implode(', ', array_map(function ($c) {
            return self::quote($c);
        }, $this->columns));
        $sql = 'SELECT ' . $cols . ' FROM ' . self::quote($this->table) . ' ' . implode(' ', $this->joins)
            . $this->whereSql()
            . ($this->orders ? ' ORDER BY ' . implode(', ', $this->orders) : '')
            . ($this->limit !== null ? ' LIMIT ' . (int) $this->limit : '');
        return new Collection($this->run($sql, $this->bindings)->fetchAll(\PDO::FETCH_OBJ));
    }

    public function first($columns = null)
    {
        $this->limit = 1;
        return $this->get($columns)->first();
    }

    public function value(string $column)
    {
        $row = $this->select($column)->first();
        if (!$row) {
            return null;
        }
        $vars = get_object_vars($row);
        return reset($vars);
    }

    public function count(): int
    {
        $sql = 'SELECT COUNT(*) FROM ' . self::quote($this->table) . ' ' . implode(' ', $this->joins) . $this->whereSql();
        return (int) $this->run($sql, $this->bindings)->fetchColumn();
    }

    public function update(array $values): int
    {
        $sets = [];
        $bindings = [];
        foreach ($values as $column => $value) {
            $sets[] = self::quote($column) . ' = ?';
            $bindings[] = $value;
        }
        $sql = 'UPDATE ' . self::quote($this->table) . ' SET ' . implode(', ', $sets) . $this->whereSql();
        return $this->run($sql, array_merge($bindings, $this->bindings))->rowCount();
    }

    public function insert(array $values): bool
    {
        $this->insertGetId($values);
        return true;
    }

    public function insertGetId(array $values): int
    {
        $columns = array_keys($values);
        $sql = 'INSERT INTO ' . self::quote($this->table) . ' (' . implode(', ', array_map(function ($c) {
            return self::quote($c);
        }, $columns)) . ') VALUES (' . implode(', ', array_fill(0, count($columns), '?')) . ')';
        $this->run($sql, array_values($values));
        return (int) $this->pdo->lastInsertId();
    }

    public function delete(): int
    {
        return $this->run('DELETE FROM ' . self::quote($this->table) . $this->whereSql(), $this->bindings)->rowCount();
    }
}
