import { Column, Entity, PrimaryColumn } from 'typeorm';

/** WHMCS client (tblclients). Read-only; only what emails and screens need. */
@Entity({ name: 'tblclients', synchronize: false })
export class WhmcsClient {
  @PrimaryColumn('int') id!: number;
  @Column('text') firstname!: string;
  @Column('text') lastname!: string;
  @Column('text') companyname!: string;
  @Column('text') email!: string;
  @Column('text') language!: string;
  @Column('varchar') status!: string;
}
