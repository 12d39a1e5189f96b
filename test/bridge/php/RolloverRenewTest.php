<?php

use WHMCS\Database\Capsule;
use WhmcsStandIn\StandIn;

/**
 * Rollover through the module's Renew, as WHMCS calls it (more than once for one payment): the
 * unused allowance of the ending cycle is carried over up to the product's cap, once.
 */
class RolloverRenewTest extends BridgeTestCase
{
    private function rolloverLines(int $serviceId): array
    {
        $st = Capsule::pdo()->prepare(
            'SELECT t.reason, t.bytes FROM mod_mikrotikvpn_traffic_topups t
               JOIN mod_mikrotikvpn_accounts a ON a.id = t.account_id
              WHERE a.service_id = ? AND t.kind = ? ORDER BY t.id'
        );
        $st->execute([$serviceId, 'ROLLOVER']);
        return array_map(function ($r) {
            return [$r['reason'], (int) $r['bytes']];
        }, $st->fetchAll(PDO::FETCH_ASSOC));
    }

    public function testRenewCalledTwiceCarriesTheUnusedAllowanceOverOnceUpToTheCap(): void
    {
        $product = $this->product(['trafficMonthlyGb' => '10', 'lowTrafficThresholdGb' => '0'], 'VPN carry 3 GB');
        $set = $this->gql(
            'mutation($i: ProductPolicyInput!) { setProductPolicy(input: $i) { policy { rollover rolloverMaxBytes rolloverCycles } } }',
            ['i' => ['productId' => $product, 'onExhausted' => 'cutoff', 'rollover' => 'carry', 'rolloverMaxGb' => '3', 'rolloverCycles' => '2']]
        );
        $this->assertArrayNotHasKey('errors', $set, json_encode($set));
        $server = $this->server(['name' => 'Rollover router', 'assignedips' => "10.84.0.2\r\n10.84.0.3"]);
        $service = $this->createdService(['packageid' => $product, 'server' => $server, 'nextduedate' => '2026-12-01']);

        $this->assertSame('success', StandIn::call('Renew', StandIn::params($service)));
        $this->assertSame('success', StandIn::call('Renew', StandIn::params($service)), 'WHMCS calling twice');
        $this->assertSame([['CYCLE_UNUSED', -10000000000], ['CARRIED_OVER', 3000000000]], $this->rolloverLines($service));
        $this->assertCount(2, $this->topUps($service, 'CYCLE'), 'the first allowance, then one renewal');
        $this->assertSame(13000000000, $this->account($service)['traffic']['balanceBytes']);

        // The next cycle: the 3 GB carried still count (one more cycle) and fill the cap, so
        // nothing of this cycle's 10 GB is carried.
        Capsule::table('tblhosting')->where('id', $service)->update(['nextduedate' => '2027-01-01']);
        $this->assertSame('success', StandIn::call('Renew', StandIn::params($service)));
        $this->assertSame(
            [['CYCLE_UNUSED', -10000000000], ['CARRIED_OVER', 3000000000], ['CYCLE_UNUSED', -10000000000]],
            $this->rolloverLines($service)
        );
        $this->assertSame(13000000000, $this->account($service)['traffic']['balanceBytes']);
    }
}
