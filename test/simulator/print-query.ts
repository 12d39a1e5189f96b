/**
 * RouterOS `print` query evaluation (`?name=x`, `?=name=x`, `?<name=x`, `?>name=x`, `?name`, `?-name`
 * and the `?#` stack operations), as the API manual describes it: a stack of booleans that starts as
 * an endless run of `true`; an item matches when no `false` is left at the end.
 */

/** One property bag as print sees it: property name → rendered string value. */
export type PropertyLookup = (name: string) => string | undefined;

type QueryStep = (stack: boolean[], get: PropertyLookup) => void;

/** Thrown for a query word RouterOS would not accept. */
export class QuerySyntaxError extends Error {}

/** A compiled list of query words; `matches` runs it against one item. */
export class PrintQuery {
  private constructor(private readonly steps: QueryStep[]) {}

  /** Compiles the `?…` words of a sentence, in order (order matters). */
  static compile(words: readonly string[]): PrintQuery {
    return new PrintQuery(words.map(compileWord));
  }

  get isEmpty(): boolean {
    return this.steps.length === 0;
  }

  matches(get: PropertyLookup): boolean {
    const stack: boolean[] = [];
    for (const step of this.steps) step(stack, get);
    return stack.every((value) => value);
  }
}

// The stack is conceptually endless `true`s below what was pushed, so popping an empty stack yields true.
function pop(stack: boolean[]): boolean {
  return stack.length === 0 ? true : (stack.pop() as boolean);
}

function compileWord(word: string): QueryStep {
  if (!word.startsWith('?')) throw new QuerySyntaxError(`not a query word: ${word}`);
  const body = word.slice(1);
  if (body.startsWith('#')) return compileOperations(body.slice(1));
  if (body.startsWith('<') || body.startsWith('>')) {
    const operator = body[0];
    const [name, value] = splitNameValue(body.slice(1));
    return (stack, get) => {
      const actual = get(name);
      stack.push(actual !== undefined && compareValues(actual, value) === (operator === '<' ? -1 : 1));
    };
  }
  if (body.startsWith('-')) {
    const name = body.slice(1);
    return (stack, get) => stack.push(get(name) === undefined);
  }
  const equals = body.startsWith('=') ? body.slice(1) : body;
  const separator = equals.indexOf('=');
  if (separator < 0) {
    return (stack, get) => stack.push(get(equals) !== undefined);
  }
  const [name, value] = splitNameValue(equals);
  return (stack, get) => stack.push(get(name) === value);
}

function splitNameValue(text: string): [string, string] {
  const separator = text.indexOf('=');
  if (separator < 0) throw new QuerySyntaxError(`query needs name=value: ${text}`);
  return [text.slice(0, separator), text.slice(separator + 1)];
}

// Numbers compare numerically, everything else as strings: enough for ids, counters and names.
function compareValues(actual: string, expected: string): number {
  const a = Number(actual);
  const b = Number(expected);
  if (actual !== '' && expected !== '' && Number.isFinite(a) && Number.isFinite(b)) {
    return Math.sign(a - b);
  }
  return actual < expected ? -1 : actual > expected ? 1 : 0;
}

/**
 * `?#` operations, read left to right: `!` negates the top, `&`/`|` pop two and push the result, a
 * decimal index followed by another character pushes a copy of that entry (0 = top of the stack),
 * an index at the end of the word replaces the whole stack with that entry, and `.` is a no-op after
 * an index and duplicates the top anywhere else.
 */
function compileOperations(ops: string): QueryStep {
  return (stack) => {
    let i = 0;
    while (i < ops.length) {
      const char = ops[i];
      if (char >= '0' && char <= '9') {
        let end = i;
        while (end < ops.length && ops[end] >= '0' && ops[end] <= '9') end++;
        const index = Number(ops.slice(i, end));
        const value = index < stack.length ? stack[stack.length - 1 - index] : true;
        if (end === ops.length) {
          stack.length = 0;
          stack.push(value);
        } else {
          stack.push(value);
          if (ops[end] === '.') end++;
        }
        i = end;
        continue;
      }
      if (char === '!') stack.push(!pop(stack));
      else if (char === '&' || char === '|') {
        // Pop both before combining: short-circuiting would leave an operand on the stack.
        const right = pop(stack);
        const left = pop(stack);
        stack.push(char === '&' ? left && right : left || right);
      } else if (char === '.') {
        const top = pop(stack);
        stack.push(top, top);
      } else throw new QuerySyntaxError(`unknown query operation ${char}`);
      i++;
    }
  };
}
