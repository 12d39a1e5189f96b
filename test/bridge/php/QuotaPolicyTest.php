<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Server\MikrotikVpn\Lang;
use WhmcsStandIn\StandIn;

/**
 * The product's quota policy on its Module Settings tab: the inputs drawn below the module settings,
 * saved by the ProductEdit hook through the server (which checks them), a refusal shown in the
 * admin's language, a throttled account as the client area and the admin tab show it, and the rollover
 * settings with the carried-over part of the balance.
 */
class QuotaPolicyTest extends BridgeTestCase
{
    private function policy(int $productId): array
    {
        $r = $this->gql('query($p: Int!) { product(id: $p) { policy { onExhausted throttle { downloadBitsPerSecond uploadBitsPerSecond } throttledTemplate overageCeilingBytes rollover rolloverMaxBytes rolloverCycles } } }', ['p' => $productId]);
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
            'throttledTemplate' => 'Mikrotik VPN Traffic Throttled', 'overageCeilingBytes' => null,
            'rollover' => 'keep', 'rolloverMaxBytes' => null, 'rolloverCycles' => 1], $this->policy($product), 'a form without the rollover inputs: the defaults');

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

    public function testTheRolloverInputsAreDrawnSavedAndRefusedInTheAdminsLanguage(): void
    {
        $product = $this->product([], 'VPN rollover screen');
        $_REQUEST['id'] = $product;
        $block = StandIn::call('ConfigOptions', [])['limitedTemplate']['Description'];
        $this->assertStringContainsString('Unused cycle traffic at renewal', $block);
        $this->assertStringContainsString('<option value="keep" selected>Keep it in the balance</option>', $block);
        $this->assertStringContainsString('<option value="carry">Carry it over, capped</option>', $block);
        $this->assertStringContainsString('name="mvpn_policy[rolloverMaxGb]" value=""', $block, 'no cap: empty');
        $this->assertStringContainsString('name="mvpn_policy[rolloverCycles]" value="1"', $block);

        $form = ['onExhausted' => 'cutoff', 'throttleDownloadMbps' => '1', 'throttleUploadMbps' => '1',
            'throttledTemplate' => 'Mikrotik VPN Traffic Throttled', 'overageCeilingGb' => '0'];
        $_POST = ['mvpn_policy' => $form + ['rollover' => 'carry', 'rolloverMaxGb' => '12.5', 'rolloverCycles' => '3']];
        $this->save($product);
        $policy = $this->policy($product);
        $this->assertSame(['carry', '12500000000', 3], [$policy['rollover'], (string) $policy['rolloverMaxBytes'], $policy['rolloverCycles']]);
        $_SESSION['adminlang'] = 'german';
        $block = StandIn::call('ConfigOptions', [])['limitedTemplate']['Description'];
        $this->assertStringContainsString('<option value="carry" selected>Übertragen, begrenzt</option>', $block);
        $this->assertStringContainsString('name="mvpn_policy[rolloverMaxGb]" value="12.5"', $block);
        $this->assertStringContainsString('name="mvpn_policy[rolloverCycles]" value="3"', $block);
        $this->assertStringContainsString(htmlspecialchars(Lang::load('german')['setting_rolloverCycles_help'], ENT_QUOTES, 'UTF-8'), $block);

        // 0 is a cap (nothing carried), not "no cap": it comes back as 0.
        $_POST = ['mvpn_policy' => $form + ['rollover' => 'carry', 'rolloverMaxGb' => '0', 'rolloverCycles' => '1']];
        $this->save($product);
        $this->assertSame('0', (string) $this->policy($product)['rolloverMaxBytes']);
        $this->assertStringContainsString('name="mvpn_policy[rolloverMaxGb]" value="0"',
            StandIn::call('ConfigOptions', [])['limitedTemplate']['Description']);

        // A negative cap and 37 cycles are refused, nothing is stored, and the admin reads why in German, then Polish.
        foreach ([['german', 'rolloverMaxGb', '-1', 'negative'], ['polish', 'rolloverCycles', '37', 'not_cycles']] as $case) {
            list($language, $setting, $value, $reason) = $case;
            $_SESSION['adminlang'] = $language;
            $_POST = ['mvpn_policy' => array_merge($form, ['rollover' => 'keep', 'rolloverMaxGb' => '', 'rolloverCycles' => '1'], [$setting => $value])];
            $this->save($product);
            $policy = $this->policy($product);
            $this->assertSame(['carry', '0', 1], [$policy['rollover'], (string) $policy['rolloverMaxBytes'], $policy['rolloverCycles']], $reason . ': nothing stored');
            $strings = Lang::load($language);
            $block = StandIn::call('ConfigOptions', [])['limitedTemplate']['Description'];
            $this->assertStringContainsString(htmlspecialchars(strtr($strings['err_policy_not_saved'], [
                '{setting}' => $strings['setting_' . $setting], '{reason}' => $strings['err_policy_' . $reason]]), ENT_QUOTES, 'UTF-8'), $block);
        }
    }

    public function testTheBalanceSaysHowMuchOfItIsCarriedOverAndUntilWhenOnlyWhenSomeIs(): void
    {
        $product = $this->product(['trafficMonthlyGb' => '10', 'lowTrafficThresholdGb' => '0'], 'VPN rollover balance');
        $_POST = ['mvpn_policy' => ['onExhausted' => 'cutoff', 'rollover' => 'carry', 'rolloverMaxGb' => '4', 'rolloverCycles' => '2']];
        $this->save($product);
        $server = $this->server(['name' => 'Rollover router', 'assignedips' => "10.85.0.2\r\n10.85.0.3"]);
        $service = $this->createdService(['packageid' => $product, 'server' => $server, 'nextduedate' => '2026-12-01']);
        $traffic = function () use ($service) {
            $r = $this->gql('query($s: Int!) { vpnAccount(serviceId: $s) { timeZone traffic { balanceBytes carriedOverBytes carriedOverExpiresAt } } }', ['s' => $service]);
            $this->assertArrayNotHasKey('errors', $r, json_encode($r));
            return $r['data']['vpnAccount'];
        };
        $this->assertSame('0', (string) $traffic()['traffic']['carriedOverBytes']);
        $_SESSION = ['Language' => 'english'];
        $html = StandIn::renderClientArea(StandIn::call('ClientArea', StandIn::params($service)));
        $this->assertStringContainsString('mvpn-balance">10.00 GB<', $html);
        $this->assertStringNotContainsString('mvpn-carried-over', $html, 'nothing carried over: no line');
        $_SESSION = ['adminlang' => 'english'];
        $this->assertStringNotContainsString('mvpn-carried-over', implode(' ', StandIn::call('AdminServicesTabFields', StandIn::params($service))));

        // The renewal: 10 GB unused, 4 GB of them carried over (the cap), then the new cycle's 10 GB.
        Capsule::table('tblhosting')->where('id', $service)->update(['nextduedate' => '2027-01-01']);
        $this->assertSame('success', StandIn::call('Renew', StandIn::params($service)));
        $account = $traffic();
        $this->assertSame(['14000000000', '4000000000'],
            [(string) $account['traffic']['balanceBytes'], (string) $account['traffic']['carriedOverBytes']]);
        $this->assertNotNull($account['traffic']['carriedOverExpiresAt']);
        $until = (new \DateTimeImmutable($account['traffic']['carriedOverExpiresAt']))
            ->setTimezone(new \DateTimeZone($account['timeZone']))->format('Y-m-d');
        $this->assertSame('2027-02-01', $until, 'the due date whose renewal ends its second cycle');
        $_SESSION = ['Language' => 'english'];
        $html = StandIn::renderClientArea(StandIn::call('ClientArea', StandIn::params($service)));
        $this->assertStringContainsString('mvpn-balance">14.00 GB<', $html);
        $this->assertStringContainsString('<div class="small text-muted mvpn-carried-over">4.00 GB of it carried over, usable until '
            . "\u{2066}" . $until . "\u{2069}</div>", $html);
        $_SESSION = ['adminlang' => 'german'];
        $de = Lang::load('german');
        $this->assertStringContainsString('<div class="mvpn-carried-over small">' . htmlspecialchars(strtr($de['carried_over'],
            ['{amount}' => '4.00 GB', '{date}' => "\u{2066}" . $until . "\u{2069}"]), ENT_QUOTES, 'UTF-8') . '</div>',
            implode(' ', StandIn::call('AdminServicesTabFields', StandIn::params($service))));
        // The admin tab's history: the renewal's rows as the server wrote them, worded.
        $fields = StandIn::call('AdminServicesTabFields', StandIn::params($service));
        $history = $fields[$de['history_title']];
        $r = $this->gql('query($s: Int!) { vpnAccount(serviceId: $s) { topUps(first: 10) { nodes { kind reason period } } } }', ['s' => $service]);
        $this->assertArrayNotHasKey('errors', $r, json_encode($r));
        $rows = array_values(array_filter($r['data']['vpnAccount']['topUps']['nodes'], function ($t) {
            return $t['kind'] === 'ROLLOVER';
        }));
        $this->assertSame(['CARRIED_OVER', 'CYCLE_UNUSED'], array_column($rows, 'reason'), 'newest first');
        foreach ($rows as $row) {
            $this->assertMatchesRegularExpression('#^\d{4}-\d\d-\d\d/\d{4}-\d\d-\d\d$#', (string) $row['period']);
            list($from, $to) = explode('/', $row['period']);
            $this->assertStringContainsString('<td>' . htmlspecialchars(strtr($de['topup_' . $row['reason']],
                ['{period}' => "\u{2066}" . $from . " \u{2013} " . $to . "\u{2069}"]), ENT_QUOTES, 'UTF-8') . '</td>', $history);
        }
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
