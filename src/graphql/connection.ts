import { Field, ObjectType, ClassType } from 'type-graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../common/pagination';

@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

/** Relay-style connection for a node type (type-graphql generic-class idiom). */
export function Connection<TNode extends object>(Node: ClassType<TNode>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field() cursor!: string;
    @Field(() => Node) node!: TNode;
  }

  @ObjectType()
  abstract class ConnectionType {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => [Node]) nodes!: TNode[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
  }
  return ConnectionType;
}

export function pageSizeComplexity({
  args,
  childComplexity,
}: {
  args: { first?: number };
  childComplexity: number;
}) {
  return 1 + childComplexity * Math.min(Math.max(args.first ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
}
