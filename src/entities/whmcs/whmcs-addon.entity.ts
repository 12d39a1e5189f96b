import { Column, Entity, PrimaryColumn } from 'typeorm';

/** WHMCS product addon definition (tbladdons). Read-only. Traffic addons have module `mikrotikvpn`. */
@Entity({ name: 'tbladdons', synchronize: false })
export class WhmcsAddon {
  @PrimaryColumn('int') id!: number;
  /** Comma-separated product ids the addon applies to. */
  @Column('text') packages!: string;
  @Column('text') name!: string;
  @Column('text') description!: string;
  @Column('text') billingcycle!: string;
  @Column('varchar', { length: 16 }) type!: string;
  @Column('varchar', { length: 32 }) module!: string;
  @Column('tinyint') hidden!: number;
  @Column('tinyint') retired!: number;
}
