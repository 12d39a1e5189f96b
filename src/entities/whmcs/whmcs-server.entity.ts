import { Column, Entity, PrimaryColumn } from 'typeorm';

/** WHMCS server (tblservers). Read-only. Its password is WHMCS-encrypted and is not mapped. */
@Entity({ name: 'tblservers', synchronize: false })
export class WhmcsServer {
  @PrimaryColumn('int') id!: number;
  @Column('text') name!: string;
  @Column('text') ipaddress!: string;
  /** The addresses the module may hand out, one per line. */
  @Column('text') assignedips!: string;
  @Column('text') hostname!: string;
  @Column('int') maxaccounts!: number;
  /** The provisioning module's name; ours is `mikrotikvpn`. */
  @Column('text') type!: string;
  @Column('text') username!: string;
  @Column('text') secure!: string;
  @Column('int', { nullable: true }) port!: number | null;
  @Column('int') active!: number;
  @Column('int') disabled!: number;
}
