import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An addon a client holds on a service (tblhostingaddons). Read-only. */
@Entity({ name: 'tblhostingaddons', synchronize: false })
export class WhmcsServiceAddon {
  @PrimaryColumn('int') id!: number;
  /** The service (tblhosting.id). */
  @Column('int') hostingid!: number;
  /** The addon definition (tbladdons.id); 0 for an ad-hoc addon. */
  @Column('int') addonid!: number;
  @Column('int') userid!: number;
  @Column('text') name!: string;
  @Column('text') billingcycle!: string;
  @Column('varchar') status!: string;
  @Column('date') regdate!: string;
  @Column('date', { nullable: true }) nextduedate!: string | null;
}
