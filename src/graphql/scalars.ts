import { GraphQLBigInt, GraphQLDateTime } from 'graphql-scalars';

/** Exact byte counts (BIGINT in the database) travel as the BigInt scalar; dates as ISO-8601 DateTime. */
export const Bytes = GraphQLBigInt;
export const scalarsMap = [{ type: Date, scalar: GraphQLDateTime }];
