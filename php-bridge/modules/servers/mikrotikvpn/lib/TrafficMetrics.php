<?php

namespace WHMCS\Module\Server\MikrotikVpn;

use WHMCS\UsageBilling\Contracts\Metrics\MetricInterface;
use WHMCS\UsageBilling\Contracts\Metrics\ProviderInterface;
use WHMCS\UsageBilling\Metrics\Metric;
use WHMCS\UsageBilling\Metrics\Units\GigaBytes;
use WHMCS\UsageBilling\Metrics\Usage;

/**
 * WHMCS Usage Billing (7.9+, the MetricProvider module function): one metric, "Traffic", in GB per
 * calendar month (PERIOD_MONTH). Its usage is the server's: the sum of the month's daily totals in
 * WHMCS's time zone, exact bytes converted once (1 GB = 10^9 bytes). WHMCS prices it with its own
 * metric pricing (the product's "keep going, bill the overage" policy). Tenants are the services'
 * user names, the module's unique identifier. Loaded only where WHMCS has Usage Billing.
 */
class TrafficMetrics implements ProviderInterface
{
    const METRIC = 'traffic';

    /** @var array<string,mixed> */
    private $params;

    public function __construct(array $params)
    {
        $this->params = $params;
    }

    public function metrics()
    {
        return [self::METRIC => new Metric(self::METRIC, 'Traffic', MetricInterface::TYPE_PERIOD_MONTH, new GigaBytes())];
    }

    /** @return array<string,array<string,MetricInterface>> every account of the server, by user name */
    public function usage()
    {
        $usage = [];
        foreach ($this->read() as $service) {
            $usage[(string) $service['username']] = $this->wrap($service['bytes']);
        }
        return $usage;
    }

    /** @return array<string,MetricInterface> */
    public function tenantUsage($tenant)
    {
        foreach ($this->read() as $service) {
            if ((string) $service['username'] === (string) $tenant) {
                return $this->wrap($service['bytes']);
            }
        }
        return [];
    }

    /** Bytes as GB, once, exactly as far as a float holds it (9 decimals = the byte). */
    public static function gigabytes($bytes): float
    {
        return (float) Format::gb($bytes, 9);
    }

    /** @return array<string,MetricInterface> */
    private function wrap($bytes): array
    {
        $metric = $this->metrics()[self::METRIC];
        return [self::METRIC => $metric->withUsage(new Usage(self::gigabytes($bytes)))];
    }

    /** @return array<int,array<string,mixed>> */
    private function read(): array
    {
        $serverId = isset($this->params['serverid']) ? (int) $this->params['serverid'] : 0;
        if ($serverId <= 0) {
            throw new \Exception(Lang::forAdmin()->t('err_no_server'));
        }
        $data = (new GraphQLClient(null, Lang::forAdmin()))->call('TrafficMetric',
            'query($s: Int!) { trafficUsageForServer(serverId: $s) { from to services { serviceId username bytes } } }',
            ['s' => $serverId]);
        return $data['trafficUsageForServer']['services'];
    }
}
