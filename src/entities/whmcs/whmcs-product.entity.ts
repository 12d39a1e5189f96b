import { Column, Entity, PrimaryColumn } from 'typeorm';

/** WHMCS product (tblproducts). Read-only: WHMCS owns this table. Module settings are configoption1..24. */
@Entity({ name: 'tblproducts', synchronize: false })
export class WhmcsProduct {
  @PrimaryColumn('int') id!: number;
  @Column('text') type!: string;
  @Column('int') gid!: number;
  @Column('text') name!: string;
  @Column('text') description!: string;
  @Column('int') hidden!: number;
  /** The provisioning module's name; ours is `mikrotikvpn`. */
  @Column('text') servertype!: string;
  @Column('int') servergroup!: number;
  @Column('text') paytype!: string;
  @Column('tinyint') retired!: number;
  @Column('text') configoption1!: string;
  @Column('text') configoption2!: string;
  @Column('text') configoption3!: string;
  @Column('text') configoption4!: string;
  @Column('text') configoption5!: string;
  @Column('text') configoption6!: string;
  @Column('text') configoption7!: string;
  @Column('text') configoption8!: string;
  @Column('text') configoption9!: string;
  @Column('text') configoption10!: string;
  @Column('text') configoption11!: string;
  @Column('text') configoption12!: string;
  @Column('text') configoption13!: string;
  @Column('text') configoption14!: string;
  @Column('text') configoption15!: string;
  @Column('text') configoption16!: string;
  @Column('text') configoption17!: string;
  @Column('text') configoption18!: string;
  @Column('text') configoption19!: string;
  @Column('text') configoption20!: string;
  @Column('text') configoption21!: string;
  @Column('text') configoption22!: string;
  @Column('text') configoption23!: string;
  @Column('text') configoption24!: string;

  /** configoption1..24 in order (index 0 = configoption1). */
  configOptions(): string[] {
    const values: string[] = [];
    for (let i = 1; i <= 24; i++)
      values.push((this as unknown as Record<string, string>)[`configoption${i}`]);
    return values;
  }
}
