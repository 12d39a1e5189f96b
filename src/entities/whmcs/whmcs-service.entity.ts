import { Column, Entity, PrimaryColumn } from 'typeorm';

/** WHMCS service (tblhosting). Read-only. `password` is WHMCS-encrypted and deliberately not mapped. */
@Entity({ name: 'tblhosting', synchronize: false })
export class WhmcsService {
  @PrimaryColumn('int') id!: number;
  /** The client (tblclients.id). */
  @Column('int') userid!: number;
  /** The product (tblproducts.id). */
  @Column('int') packageid!: number;
  /** The server (tblservers.id), 0 when none. */
  @Column('int') server!: number;
  @Column('date') regdate!: string;
  @Column('text') domain!: string;
  @Column('text') billingcycle!: string;
  @Column('date', { nullable: true }) nextduedate!: string | null;
  @Column('varchar') domainstatus!: string;
  @Column('text') username!: string;
  @Column('text') dedicatedip!: string;
  @Column('text') suspendreason!: string;
  @Column('int') bwusage!: number;
  @Column('int') bwlimit!: number;
}
