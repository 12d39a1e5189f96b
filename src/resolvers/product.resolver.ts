import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ProductPolicyInput } from '../graphql/inputs/product-policy.input';
import { ProductPolicyType, ProductType } from '../graphql/types/product.type';
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

  @FieldResolver(() => ProductPolicyType, {
    description:
      "What happens when an account's traffic is used up (the default, cutoff, for a product without a policy).",
  })
  policy(@Root() product: ProductType, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.productPolicy.load(product.id);
  }

  @Authorized('admin')
  @Mutation(() => ProductType, {
    description:
      "Sets a product's quota policy (what happens when traffic is used up). Bad input is VALIDATION with the setting in extensions.setting. Applies to the product's accounts at the next collection.",
  })
  async setProductPolicy(
    @Arg('input', () => ProductPolicyInput) input: ProductPolicyInput,
    @Ctx() ctx: GraphQLContext,
  ) {
    const id = requireId('productId', input.productId);
    await ctx.services.productPolicies.set(id, input);
    return (await ctx.services.products.findByIds([id])).get(id);
  }
}
