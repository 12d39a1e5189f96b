<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Server\MikrotikVpn\Lang;
use WhmcsStandIn\StandIn;

/**
 * The product's quota policy on its Module Settings tab: the inputs drawn below the module settings,
 * saved by the ProductEdit hook through the server (which checks them), a refusal shown in the
 * admin's language, and a throttled account as the client area and the admin tab show it.
 */
class QuotaPolicyTest extends BridgeTestCase
{
    private function policy(int $productId): array
    {
        $r = $this->gql('query($p: Int!) { product(id: $p) { policy { onExhausted throttle { downloadBitsPerSecond uploadBitsPerSecond } throttledTemplate overageCeilingBytes } } }', ['p' => $productId]);
        $this->assertArrayNotHasKey('errors', $r, json_encode($r));
        return $r['data']['product']['policy'];
    }

    /** What WHMCS does when the admin presses Save on the product: the form posted, ProductEdit run. */
    private function save(int $productId): void
    {
        StandIn::runHook('ProductEdit', ['pid' => $productId, 'servertype' => 'mikrotikvpn']);
    }

    public function testTheSettingsTabDrawsThePolicyInputsWithTheStoredValues(): void
    {
        $product = $this->product(['downloadMbps' => '20', 'uploadMbps' => '5'], 'VPN policy screen');
        $_REQUEST['id'] = $product;
        $block = StandIn::call('ConfigOptions', [])['limitedTemplate']['Description'];
        $this->assertStringContainsString('When traffic is used up', $block);
        $this->assertMatchesRegularExpression('#<option value="cutoff" selected>Cut off</option>#', $block);
        $this->assertStringContainsString('name="mvpn_policy[throttleDownloadMbps]" value="1"', $block);

        $_POST = ['mvpn_policy' => ['onExhausted' => 'throttle', 'throttleDownloadMbps' => '2.5', 'throttleUploadMbps' => '0.5',
            'throttledTemplate' => 'Mikrotik VPN Traffic Throttled', 'overageCeilingGb' => '0']];
        $this->save($product);
        $this->assertSame(['onExhausted' => 'throttle',
            'throttle' => ['downloadBitsPerSecond' => 2500000, 'uploadBitsPerSecond' => 500000],
            'throttledTemplate' => 'Mikrotik VPN Traffic Throttled', 'overageCeilingBytes' => null], $this->policy($product));

        $_SESSION['adminlang'] = 'german';
        $block = StandIn::call('ConfigOptions', [])['limitedTemplate']['Description'];
        $this->assertStringContainsString('Wenn das Datenvolumen verbraucht ist', $block);
        $this->assertStringContainsString('<option value="throttle" selected>Drosseln</option>', $block);
        $this->assertStringContainsString('name="mvpn_policy[throttleDownloadMbps]" value="2.5"', $block);
        $this->assertStringContainsString('name="mvpn_policy[throttleUploadMbps]" value="0.5"', $block);
        // The module's throttled email template is installed with the other two.
        StandIn::call('InstallEmailTemplates', StandIn::params($this->service()));
        $this->assertSame(1, Capsule::table('tblemailtemplates')->where('name', 'Mikrotik VPN Traffic Throttled')->count());
    }

    public function testARefusedPolicyIsNotStoredAndTheNextDrawingSaysWhyInTheAdminsLanguage(): void
    {
        $product = $this->product(['downloadMbps' => '20', 'uploadMbps' => '5'], 'VPN policy refused');
        $_SESSION['adminlang'] = 'french';
        $_POST = ['mvpn_policy' => ['onExhausted' => 'throttle', 'throttleDownloadMbps' => '1', 'throttleUploadMbps' => '8']];
        $this->save($product);
        $this->assertSame('cutoff', $this->policy($product)['onExhausted'], 'nothing stored');
        $_REQUEST['id'] = $product;
        $block = StandIn::call('ConfigOptions', [])['limitedTemplate']['Description'];
        $french = Lang::load('french');
        $this->assertStringContainsString(htmlspecialchars($french['setting_throttleUploadMbps'] . ' : '
            . $french['err_policy_above_product_speed'], ENT_QUOTES, 'UTF-8'), $block);
        $this->assertStringContainsString('mvpn-policy-error', $block);
        // Shown once: the next drawing no longer carries it.
        $this->assertStringNotContainsString('mvpn-policy-error', StandIn::call('ConfigOptions', [])['limitedTemplate']['Description']);
        // Another module's product, or a form without the inputs, sends nothing.
        $_POST = [];
        $this->save($product);
        StandIn::runHook('ProductEdit', ['pid' => $product, 'servertype' => 'cpanel']);
        $this->assertSame('cutoff', $this->policy($product)['onExhausted']);
    }

    public function testAThrottledAccountIsOnlineSlowedDownAndTheScreensSaySo(): void
    {
        $product = $this->product(['trafficMonthlyGb' => '1', 'lowTrafficThresholdGb' => '0', 'downloadMbps' => '20', 'uploadMbps' => '5'], 'VPN throttle');
        $_POST = ['mvpn_policy' => ['onExhausted' => 'throttle', 'throttleDownloadMbps' => '1', 'throttleUploadMbps' => '1']];
        $this->save($product);
        $server = $this->server(['name' => 'Throttle router', 'assignedips' => "10.83.0.2\r\n10.83.0.3"]);
        $service = $this->createdService(['packageid' => $product, 'server' => $server]);
        $address = (string) Capsule::table('tblhosting')->where('id', $service)->value('dedicatedip');
        $this->sim('traffic', ['target' => $address, 'download' => '1200000000', 'upload' => '0']);
        // The server's own schedule may be collecting the router at that moment: run the cron again.
        for ($i = 0; $i < 20; $i++) {
            StandIn::runHook('AfterCronJob', []);
            if ($this->account($service)['status'] === 'THROTTLED' && StandIn::$sentEmails) {
                break;
            }
            usleep(250000);
        }
        $this->assertSame('THROTTLED', $this->account($service)['status']);
        $this->assertContains('Mikrotik VPN Traffic Throttled', array_column(StandIn::$sentEmails, 'messagename'));

        $_SESSION = ['Language' => 'english'];
        $html = StandIn::renderClientArea(StandIn::call('ClientArea', StandIn::params($service)));
        $this->assertStringContainsString('mvpn-throttled', $html);
        $this->assertStringContainsString(Lang::load('english')['throttled_banner'], $html);
        $this->assertStringNotContainsString('mvpn-limited', $html);

        $_SESSION = ['adminlang' => 'german'];
        $fields = StandIn::call('AdminServicesTabFields', StandIn::params($service));
        $this->assertStringContainsString('Gedrosselt (Datenvolumen verbraucht)', implode(' ', $fields));
    }

    public function testOverageKeepsGoingAndTheMetricProviderReportsTheMonthsTrafficInGb(): void
    {
        $product = $this->product(['trafficMonthlyGb' => '1', 'lowTrafficThresholdGb' => '0'], 'VPN overage');
        $_POST = ['mvpn_policy' => ['onExhausted' => 'overage', 'overageCeilingGb' => '0']];
        $this->save($product);
        $server = $this->server(['name' => 'Overage router', 'assignedips' => "10.84.0.2\r\n10.84.0.3"]);
        $service = $this->createdService(['packageid' => $product, 'server' => $server]);
        $username = (string) Capsule::table('tblhosting')->where('id', $service)->value('username');
        $address = (string) Capsule::table('tblhosting')->where('id', $service)->value('dedicatedip');
        $this->sim('traffic', ['target' => $address, 'download' => '1234567891', 'upload' => '2']);
        for ($i = 0; $i < 20 && $this->account($service)['traffic']['balanceBytes'] > 0; $i++) {
            StandIn::runHook('AfterCronJob', []);
            usleep(250000);
        }
        $account = $this->account($service);
        $this->assertSame('ACTIVE', $account['status'], 'never limited for the balance');
        $this->assertSame(1000000000 - 1234567893, $account['traffic']['balanceBytes']);

        $provider = StandIn::call('MetricProvider', StandIn::params($service));
        $this->assertInstanceOf(\WHMCS\UsageBilling\Contracts\Metrics\ProviderInterface::class, $provider);
        $metrics = $provider->metrics();
        $this->assertSame(['traffic'], array_keys($metrics));
        $this->assertSame('Traffic', $metrics['traffic']->displayName());
        $this->assertSame(\WHMCS\UsageBilling\Contracts\Metrics\MetricInterface::TYPE_PERIOD_MONTH, $metrics['traffic']->type());
        $this->assertSame('GB', $metrics['traffic']->units()->suffix());
        $usage = $provider->usage();
        $this->assertSame([$username], array_keys($usage), 'the server\'s accounts, by user name');
        $this->assertSame(1.234567893, $usage[$username]['traffic']->usage()->value(), '1 GB = 10^9 bytes, converted once');
        $this->assertSame(1.234567893, $provider->tenantUsage($username)['traffic']->usage()->value());
        $this->assertSame([], $provider->tenantUsage('someone-else'));
        // UsageUpdate still fills WHMCS's own bandwidth columns.
        $this->assertSame('success', StandIn::call('UsageUpdate', StandIn::params($service)));
        $this->assertSame(1234, (int) Capsule::table('tblhosting')->where('id', $service)->value('bwusage'));
    }
}
