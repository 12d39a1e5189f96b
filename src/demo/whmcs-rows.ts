import type { DataSource } from 'typeorm';
import { PRODUCT_SETTINGS } from '../product/product-settings';

/**
 * Rows in WHMCS's own tables, written the way WHMCS writes them: the demo's client, products, servers
 * and addons, and the tests' fixtures (test/helpers/whmcs-fixtures.ts). Never used by the server.
 */
export class WhmcsRows {
  constructor(private readonly db: DataSource) {}

  private async insert(table: string, row: Record<string, unknown>): Promise<number> {
    const columns = Object.keys(row);
    const result = await this.db.query(
      `INSERT INTO ${table} (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      Object.values(row),
    );
    return Number((result as { insertId: number }).insertId);
  }

  client(
    fields: { id?: number; firstname?: string; lastname?: string; email?: string; language?: string } = {},
  ) {
    return this.insert('tblclients', {
      ...(fields.id ? { id: fields.id } : {}),
      firstname: fields.firstname ?? 'Ada',
      lastname: fields.lastname ?? 'Lovelace',
      companyname: '',
      email: fields.email ?? 'ada@example.test',
      address1: '',
      address2: '',
      city: '',
      state: '',
      postcode: '',
      country: 'DE',
      phonenumber: '',
      password: '',
      authmodule: '',
      authdata: '',
      currency: 1,
      defaultgateway: '',
      credit: 0,
      taxexempt: 0,
      latefeeoveride: 0,
      overideduenotices: 0,
      separateinvoices: 0,
      disableautocc: 0,
      datecreated: '2026-01-01',
      notes: '',
      billingcid: 0,
      securityqid: 0,
      securityqans: '',
      groupid: 0,
      cardlastfour: '',
      cardnum: '',
      startdate: '',
      expdate: '',
      issuenumber: '',
      bankname: '',
      banktype: '',
      bankcode: '',
      bankacct: '',
      gatewayid: '',
      ip: '',
      host: '',
      language: fields.language ?? '',
      pwresetkey: '',
      emailoptout: 0,
      overrideautoclose: 0,
    });
  }

  /** A product; `settings` are by manifest key (e.g. { profile: 'vpn', trafficMonthlyGb: '10' }). */
  product(
    fields: { id?: number; name?: string; servertype?: string; settings?: Record<string, string> } = {},
  ) {
    const options: Record<string, string> = {};
    for (let i = 1; i <= 24; i++) options[`configoption${i}`] = '';
    PRODUCT_SETTINGS.forEach((spec, index) => {
      const value = fields.settings?.[spec.key];
      if (value !== undefined) options[`configoption${index + 1}`] = value;
    });
    return this.insert('tblproducts', {
      ...(fields.id ? { id: fields.id } : {}),
      type: 'other',
      gid: 1,
      name: fields.name ?? 'VPN 10 GB',
      description: '',
      hidden: 0,
      showdomainoptions: 0,
      stockcontrol: 0,
      proratabilling: 0,
      proratadate: 0,
      proratachargenextmonth: 0,
      paytype: 'recurring',
      allowqty: 0,
      subdomain: '',
      autosetup: 'payment',
      servertype: fields.servertype ?? 'mikrotikvpn',
      servergroup: 1,
      ...options,
      freedomain: '',
      freedomainpaymentterms: '',
      freedomaintlds: '',
      recurringcycles: 0,
      autoterminatedays: 0,
      configoptionsupgrade: 0,
      billingcycleupgrade: '',
      overagesenabled: '',
      overagesdisklimit: 0,
      overagesbwlimit: 0,
      overagesdiskprice: 0,
      overagesbwprice: 0,
      tax: 0,
      affiliateonetime: 0,
      affiliatepaytype: '',
      affiliatepayamount: 0,
      retired: 0,
      is_featured: 0,
    });
  }

  server(
    fields: { id?: number; name?: string; ipaddress?: string; assignedips?: string[]; type?: string } = {},
  ) {
    const ns: Record<string, string> = {};
    for (let i = 1; i <= 5; i++) Object.assign(ns, { [`nameserver${i}`]: '', [`nameserver${i}ip`]: '' });
    return this.insert('tblservers', {
      ...(fields.id ? { id: fields.id } : {}),
      name: fields.name ?? 'Router 1',
      ipaddress: fields.ipaddress ?? '127.0.0.1',
      assignedips: (fields.assignedips ?? ['10.10.0.2', '10.10.0.3', '10.10.0.4']).join('\r\n'),
      hostname: '',
      noc: '',
      statusaddress: '',
      ...ns,
      maxaccounts: 0,
      type: fields.type ?? 'mikrotikvpn',
      username: 'api',
      password: '',
      accesshash: '',
      secure: 'on',
      port: null,
      active: 1,
      disabled: 0,
    });
  }

  service(fields: {
    id?: number;
    userid: number;
    packageid: number;
    server: number;
    username?: string;
    billingcycle?: string;
    nextduedate?: string;
    domainstatus?: string;
  }) {
    return this.insert('tblhosting', {
      ...(fields.id ? { id: fields.id } : {}),
      userid: fields.userid,
      orderid: 1,
      packageid: fields.packageid,
      server: fields.server,
      regdate: '2026-11-01',
      domain: '',
      paymentmethod: 'banktransfer',
      billingcycle: fields.billingcycle ?? 'Monthly',
      nextduedate: fields.nextduedate ?? '2026-12-01',
      nextinvoicedate: fields.nextduedate ?? '2026-12-01',
      domainstatus: fields.domainstatus ?? 'Pending',
      username: fields.username ?? '',
      password: '',
      notes: '',
      subscriptionid: '',
      promoid: 0,
      suspendreason: '',
      overideautosuspend: 0,
      overidesuspenduntil: '0000-00-00',
      dedicatedip: '',
      assignedips: '',
      ns1: '',
      ns2: '',
      diskusage: 0,
      disklimit: 0,
      bwusage: 0,
      bwlimit: 0,
      lastupdate: '0000-00-00 00:00:00',
    });
  }
  /**
   * A traffic addon of this module (`tbladdons.module = mikrotikvpn`) offered for `packages`, with its
   * gigabytes in the addon's module setting and a monthly price in currency 1, as the bridge reads them.
   */
  async addon(fields: { name: string; packages: number[]; gb: number; price?: number }): Promise<number> {
    const id = await this.insert('tbladdons', {
      packages: fields.packages.join(','),
      name: fields.name,
      description: '',
      billingcycle: 'onetime',
      tax: 0,
      showorder: 1,
      downloads: '',
      autoactivate: 'payment',
      suspendproduct: 0,
      welcomeemail: 0,
      type: 'other',
      module: 'mikrotikvpn',
      autolinkby: '',
    });
    await this.insert('tblmodule_configuration', {
      entity_type: 'addon',
      entity_id: id,
      setting_name: 'configoption1',
      friendly_name: 'Traffic in GB',
      value: String(fields.gb),
    });
    await this.insert('tblpricing', {
      type: 'addon',
      currency: 1,
      relid: id,
      msetupfee: 0,
      qsetupfee: 0,
      ssetupfee: 0,
      asetupfee: 0,
      bsetupfee: 0,
      tsetupfee: 0,
      monthly: fields.price ?? 0,
      quarterly: -1,
      semiannually: -1,
      annually: -1,
      biennially: -1,
      triennially: -1,
    });
    return id;
  }

  /** An addon a client holds on a service (tblhostingaddons), active as after its invoice was paid. */
  hostingAddon(fields: {
    serviceId: number;
    addonId: number;
    userid: number;
    name: string;
    qty?: number;
  }): Promise<number> {
    return this.insert('tblhostingaddons', {
      orderid: 1,
      hostingid: fields.serviceId,
      addonid: fields.addonId,
      userid: fields.userid,
      name: fields.name,
      qty: fields.qty ?? 1,
      billingcycle: 'One Time',
      tax: '',
      status: 'Active',
      regdate: '2026-11-01',
      nextinvoicedate: '0000-00-00',
      paymentmethod: 'banktransfer',
      notes: '',
    });
  }

  /** A paid invoice (tblinvoices) with one item per `items` entry (type 'Hosting' or 'Addon' + relid). */
  async paidInvoice(fields: {
    userid: number;
    items: { type: 'Hosting' | 'Addon'; relid: number }[];
    paidAt?: string;
    number?: string;
  }): Promise<number> {
    const id = await this.insert('tblinvoices', {
      userid: fields.userid,
      invoicenum: fields.number ?? '',
      date: '2026-11-01',
      duedate: '2026-11-01',
      datepaid: fields.paidAt ?? '2026-11-01 10:00:00',
      last_capture_attempt: '0000-00-00 00:00:00',
      subtotal: 0,
      credit: 0,
      tax: 0,
      tax2: 0,
      total: 0,
      taxrate: 0,
      taxrate2: 0,
      status: 'Paid',
      paymentmethod: 'banktransfer',
      notes: '',
    });
    for (const item of fields.items) {
      await this.insert('tblinvoiceitems', {
        invoiceid: id,
        userid: fields.userid,
        type: item.type,
        relid: item.relid,
        description: '',
        amount: 0,
        taxed: 0,
        paymentmethod: 'banktransfer',
        notes: '',
      });
    }
    return id;
  }
}
