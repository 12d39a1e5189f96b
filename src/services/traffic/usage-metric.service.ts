import type { DataSource } from 'typeorm';
import { addDays, dayIn } from '../../common/time-zone';
import { toBytes } from '../../common/units';
import { ValidationError } from '../../errors/app-errors';

/** One service's traffic in a period: the sum of its daily totals, exact to the byte. */
export interface ServiceTrafficUsage {
  serviceId: number;
  /** The service's user name (WHMCS's tenant for Usage Billing). */
  username: string;
  downloadBytes: bigint;
  uploadBytes: bigint;
  bytes: bigint;
}

export interface TrafficUsagePeriod {
  /** First and last day of the period (YYYY-MM-DD, in WHMCS's time zone). */
  from: string;
  to: string;
  timeZone: string;
  services: ServiceTrafficUsage[];
}

/**
 * The usage WHMCS's Usage Billing reads (the module's MetricProvider, metric "Traffic"): a calendar
 * month in WHMCS's time zone, summed from the daily totals the meter writes in the same time zone,
 * so the month's figure is exactly the sum of its days, whatever renewals happened inside it.
 */
export class UsageMetricService {
  constructor(
    private readonly db: DataSource,
    private readonly timeZone: string,
  ) {}

  /** `month` = YYYY-MM; without it, the month of today (database clock) in WHMCS's time zone. */
  async forServer(
    serverId: number,
    month: string | null,
    serviceId: number | null,
  ): Promise<TrafficUsagePeriod> {
    let first: string;
    if (month) {
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month))
        throw new ValidationError('month must be YYYY-MM', { field: 'month' });
      first = `${month}-01`;
    } else {
      const [{ now }]: { now: Date }[] = await this.db.query('SELECT UTC_TIMESTAMP(3) AS now');
      first = `${dayIn(this.timeZone, now).slice(0, 7)}-01`;
    }
    const next = addDays(first, 32).slice(0, 7);
    const last = addDays(`${next}-01`, -1);
    const rows: { service_id: number; username: string; download: string | null; upload: string | null }[] =
      await this.db.query(
        `SELECT a.service_id, a.username, SUM(d.download_bytes) AS download, SUM(d.upload_bytes) AS upload
           FROM mod_mikrotikvpn_accounts a
           JOIN mod_mikrotikvpn_routers r ON r.id = a.router_id
           LEFT JOIN mod_mikrotikvpn_traffic_daily d ON d.account_id = a.id AND d.day >= ? AND d.day <= ?
          WHERE r.server_id = ? AND a.status <> 'TERMINATED' ${serviceId === null ? '' : 'AND a.service_id = ?'}
          GROUP BY a.id, a.service_id, a.username
          ORDER BY a.service_id`,
        serviceId === null ? [first, last, serverId] : [first, last, serverId, serviceId],
      );
    return {
      from: first,
      to: last,
      timeZone: this.timeZone,
      services: rows.map((r) => {
        const downloadBytes = toBytes(r.download ?? '0');
        const uploadBytes = toBytes(r.upload ?? '0');
        return {
          serviceId: Number(r.service_id),
          username: r.username,
          downloadBytes,
          uploadBytes,
          bytes: downloadBytes + uploadBytes,
        };
      }),
    };
  }
}
