<?php

use WHMCS\Database\Capsule;
use WhmcsStandIn\StandIn;

/**
 * The cron hooks (collection, outbox to email), UsageUpdate, and the client area rendered by real
 * Smarty for the offline, online and limited cases. One account walks through all of them.
 */
class CronAndClientAreaTest extends BridgeTestCase
{
    /** @var int */
    private static $service = 0;
    /** @var int */
    private static $product = 0;

    private function service_(): int
    {
        if (self::$service === 0) {
            StandIn::call('InstallEmailTemplates', StandIn::params($this->service()));
            self::$product = $this->product(['trafficMonthlyGb' => '10', 'lowTrafficThresholdGb' => '2'], 'VPN Cron');
            $this->trafficAddon('100', [self::$product], 'Traffic 100 GB', '10.00');
            // A server record of its own (same simulated router, its own addresses), so that this
            // router's collection concerns only this account.
            $server = $this->server(['name' => 'Cron router', 'assignedips' => "10.78.0.2\r\n10.78.0.3"]);
            self::$service = $this->createdService(['packageid' => self::$product, 'server' => $server]);
        }
        return self::$service;
    }

    private function username(): string
    {
        return (string) Capsule::table('tblhosting')->where('id', $this->service_())->value('username');
    }

    private function address(): string
    {
        return (string) Capsule::table('tblhosting')->where('id', $this->service_())->value('dedicatedip');
    }

    private function render(array $session = []): string
    {
        $_SESSION = $session;
        $result = StandIn::call('ClientArea', StandIn::params($this->service_()));
        $this->assertSame('templates/clientarea.tpl', $result['tabOverviewModuleOutputTemplate']);
        return StandIn::renderClientArea($result);
    }

    private function pending(): array
    {
        $r = $this->gql('{ pendingNotifications(first: 100) { id kind serviceId template mergeFields attempts } }');
        $this->assertArrayNotHasKey('errors', $r, json_encode($r));
        $service = $this->service_();
        return array_values(array_filter($r['data']['pendingNotifications'], function ($n) use ($service) {
            return $n['serviceId'] === $service;
        }));
    }

    /**
     * Runs a cron hook until $done() holds: the server's own schedule may be collecting the router at
     * that moment (the collection then answers "another server process is collecting this router").
     */
    private function cronUntil(string $hook, callable $done): void
    {
        for ($i = 0; $i < 20; $i++) {
            StandIn::runHook($hook, []);
            if ($done()) {
                return;
            }
            usleep(250000);
        }
    }

    public function test1OfflineClientArea(): void
    {
        $html = $this->render();
        $this->assertStringContainsString('dir="ltr"', $html);
        $this->assertStringContainsString('mvpn-offline', $html);
        $this->assertStringNotContainsString('mvpn-online', $html);
        $this->assertStringNotContainsString('mvpn-limited', $html);
        $this->assertStringContainsString('<code class="mvpn-server">vpn.example.test</code>', $html);
        $this->assertStringContainsString('L2TP/IPsec', $html);
        $this->assertStringContainsString('SSTP', $html);
        $this->assertStringContainsString('shared-psk-123', $html);
        $this->assertStringContainsString('<code class="mvpn-username">' . $this->username() . '</code>', $html);
        $this->assertStringContainsString('href="https://docs.example.test/vpn-setup"', $html);
        $this->assertMatchesRegularExpression('#mvpn-balance">10\.00 GB<#', $html);
        $this->assertStringContainsString('mvpn-download">20 Mbit/s<', $html);
        $this->assertStringContainsString('mvpn-upload">5 Mbit/s<', $html);
        $this->assertStringContainsString('mvpn-allowance">10.00 GB<', $html);
        $this->assertStringContainsString('Traffic 100 GB (10.00 EUR one time)', $html);
        $this->assertStringContainsString('action="cart.php?a=add"', $html);
        $this->assertStringContainsString('name="productid" value="' . $this->service_() . '"', $html);
        // The usage page (issue 7) mounts here with a token for this service only.
        $this->assertMatchesRegularExpression('/<div id="mvpn-usage"[^>]* data-service-id="' . $this->service_() . '"/', $html);
        $this->assertMatchesRegularExpression('/data-token="[^"]{16,}"/', $html);
        // Through WHMCS (proxy mode, the default): the module's own action for this service, with WHMCS's CSRF token.
        $this->assertStringContainsString('data-proxy-url="clientarea.php?action=productdetails&amp;id=' . $this->service_()
            . '&amp;modop=custom&amp;a=usageData&amp;token=' . StandIn::CSRF_TOKEN . '"', $html);
        $this->assertStringNotContainsString('data-graphql-url', $html);
        $this->assertStringContainsString('&quot;usage_download&quot;:&quot;Download&quot;', $html);
        // The page words the server's history lines itself: it gets the reasons and cycle names too.
        $this->assertStringContainsString('&quot;topup_RENEWAL&quot;:&quot;Renewal traffic allowance ({cycle})&quot;', $html);
        $this->assertStringContainsString('&quot;cycle_name_monthly&quot;:&quot;Monthly&quot;', $html);
        $this->assertStringContainsString('&quot;kind_NOTE&quot;:&quot;Note&quot;', $html);
    }

    public function test2OnlineClientArea(): void
    {
        $this->sim('connect', ['name' => $this->username()]);
        $html = $this->render();
        $this->assertStringContainsString('mvpn-online', $html);
        $this->assertStringContainsString('L2TP', $html);
        $this->assertStringContainsString('<td>' . $this->address() . '</td>', $html);
        $this->assertMatchesRegularExpression('#mvpn-uptime">\d\d:\d\d:\d\d<#', $html);
    }

    public function test3ArabicRendersRightToLeft(): void
    {
        $html = $this->render(['Language' => 'arabic']);
        $this->assertStringContainsString('dir="rtl"', $html);
        $this->assertStringContainsString('lang="arabic"', $html);
        $this->assertStringContainsString(htmlspecialchars(\WHMCS\Module\Server\MikrotikVpn\Lang::load('arabic')['traffic_balance']), $html);
    }

    public function test4AfterCronCollectsAndALowTrafficEmailStaysPendingWhileSendEmailFails(): void
    {
        $this->sim('traffic', ['target' => $this->address(), 'download' => '8500000000', 'upload' => '500000000']);
        StandIn::$sendEmailFailure = 'Sending Failed: SMTP connection refused';
        $this->cronUntil('AfterCronJob', function () {
            return $this->account($this->service_())['traffic']['balanceBytes'] === 1000000000 && $this->pending();
        });
        $this->assertSame([], preg_grep('/\(AfterCronJob\)/', StandIn::$activityLog), implode("\n", StandIn::$activityLog));
        $collect = array_values(array_filter(StandIn::$moduleLog, function ($e) {
            return $e['action'] === 'CollectTraffic';
        }));
        $this->assertSame(1000000000, $this->account($this->service_())['traffic']['balanceBytes'], json_encode($collect));
        $pending = $this->pending();
        $this->assertCount(1, $pending, 'the failed email stays pending');
        $this->assertSame('LOW_TRAFFIC', $pending[0]['kind']);
        $this->assertSame('Mikrotik VPN Low Traffic', $pending[0]['template']);
        $this->assertGreaterThanOrEqual(1, $pending[0]['attempts']);
        $this->assertSame([], StandIn::$sentEmails);
    }

    public function test5TheNextCronSendsItAndAcknowledges(): void
    {
        StandIn::runHook('AfterCronJob', []);
        $this->assertCount(1, StandIn::$sentEmails);
        $email = StandIn::$sentEmails[0];
        $this->assertSame('Mikrotik VPN Low Traffic', $email['messagename']);
        $this->assertSame($this->service_(), $email['id']);
        foreach (['client_name', 'service_product_name', 'service_next_due_date', 'vpn_username', 'vpn_balance_gb', 'vpn_cycle_allowance_gb', 'vpn_threshold_gb'] as $field) {
            $this->assertArrayHasKey($field, $email['customvars']);
        }
        $this->assertSame($this->username(), $email['customvars']['vpn_username']);
        $this->assertSame([], $this->pending());
        StandIn::runHook('AfterCronJob', []);
        $this->assertCount(1, StandIn::$sentEmails, 'acknowledged notifications are not sent again');
    }

    public function test6UsageUpdateWritesWhmcsBandwidthColumns(): void
    {
        $this->assertSame('success', StandIn::call('UsageUpdate', StandIn::params($this->service_())));
        $row = Capsule::table('tblhosting')->where('id', $this->service_())->first();
        $this->assertSame(9000, (int) $row->bwusage, 'MB = 10^6 bytes');
        $this->assertSame(10000, (int) $row->bwlimit);
        $this->assertNotSame('0000-00-00 00:00:00', $row->lastupdate);
    }

    public function test7UsedUpTheAccountIsLimitedTheEmailIsSentAndTheClientAreaSaysSo(): void
    {
        $this->sim('traffic', ['target' => $this->address(), 'download' => '1500000000', 'upload' => '0']);
        StandIn::runHook('DailyCronJob', []);
        $this->cronUntil('AfterCronJob', function () {
            return $this->account($this->service_())['status'] === 'LIMITED' && StandIn::$sentEmails;
        });
        $this->assertSame('LIMITED', $this->account($this->service_())['status']);
        $this->assertSame(['Mikrotik VPN Traffic Exhausted'], array_column(StandIn::$sentEmails, 'messagename'));
        $html = $this->render();
        $this->assertStringContainsString('mvpn-limited', $html);
        $this->assertStringContainsString('traffic balance is used up', $html);
        $this->assertStringContainsString('mvpn-offline', $html);
        $this->assertMatchesRegularExpression('#mvpn-balance text-danger">-0\.50 GB<#', $html);
        $this->assertStringContainsString('Traffic 100 GB', $html, 'the buy-more dropdown is there');
    }

    public function test8TheClientAreaSurvivesTheApiBeingDown(): void
    {
        $this->useConfig(['graphql_url' => 'http://127.0.0.1:9/graphql']);
        $html = $this->render();
        $this->assertStringContainsString('mvpn-unavailable', $html);
        $this->assertStringNotContainsString('id="mvpn-usage"', $html);
        $this->assertStringContainsString($this->username(), $html, 'access details still show');
    }
}
