import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { ProductType } from '../graphql/types/product.type';
import type { GraphQLContext } from '../graphql/context';
import { requireId } from '../common/validate';

@Resolver(() => ProductType)
export class ProductResolver {
  @Authorized()
  @Query(() => ProductType, { nullable: true, description: 'A WHMCS product (tblproducts.id).' })
  product(@Arg('id', () => Int) id: number, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.productById.load(requireId('id', id));
  }

  @Authorized()
  @Query(() => [ProductType], { description: 'The WHMCS products that use this module.' })
  products(@Ctx() ctx: GraphQLContext) {
    return ctx.services.products.list();
  }
}
