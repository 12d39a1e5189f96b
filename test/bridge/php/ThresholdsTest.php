<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Server\MikrotikVpn\Lang;
use WhmcsStandIn\StandIn;

/**
 * Several low traffic thresholds (issue #18): each threshold's email goes through WHMCS's SendEmail
 * with its own merge fields (the threshold as written, the share of the allowance used), the admin
 * tab and the client area say which were reached, and a bad threshold is refused at CreateAccount
 * in the admin's language, naming the setting.
 */
class ThresholdsTest extends BridgeTestCase
{
    private function emailsFor(int $serviceId): array
    {
        return array_values(array_filter(StandIn::$sentEmails, function ($e) use ($serviceId) {
            return $e['id'] === $serviceId;
        }));
    }

    public function testThreeThresholdsCrossedAtOnceGiveThreeEmailsAndTheScreensSayWhich(): void
    {
        StandIn::call('InstallEmailTemplates', StandIn::params($this->service()));
        $product = $this->product(['trafficMonthlyGb' => '10', 'lowTrafficThresholdGb' => '50%, 80%, 1 GB'], 'VPN thresholds');
        $server = $this->server(['name' => 'Thresholds router', 'assignedips' => "10.81.0.2\r\n10.81.0.3"]);
        $service = $this->createdService(['packageid' => $product, 'server' => $server]);
        $address = (string) Capsule::table('tblhosting')->where('id', $service)->value('dedicatedip');
        $this->sim('traffic', ['target' => $address, 'download' => '9500000000', 'upload' => '0']);
        // The server's own schedule may be collecting this router at that moment: run the cron until sent.
        for ($i = 0; $i < 20 && count($this->emailsFor($service)) < 3; $i++) {
            StandIn::runHook('AfterCronJob', []);
            usleep(250000);
        }
        $emails = $this->emailsFor($service);
        $this->assertCount(3, $emails, json_encode([$this->account($service), $this->gql('{ pendingNotifications(first: 100) { kind serviceId template mergeFields attempts lastError } }'), StandIn::$sentEmails]));
        $byThreshold = [];
        foreach ($emails as $email) {
            $this->assertSame('Mikrotik VPN Low Traffic', $email['messagename']);
            $this->assertSame('95.0', $email['customvars']['vpn_used_percent']);
            $this->assertSame('0.50', $email['customvars']['vpn_balance_gb']);
            $byThreshold[$email['customvars']['vpn_threshold']] = $email['customvars']['vpn_threshold_gb'];
        }
        ksort($byThreshold);
        $this->assertSame(['1 GB' => '1.00', '50%' => '5.00', '80%' => '2.00'], $byThreshold);
        // The installed template uses them.
        $message = (string) Capsule::table('tblemailtemplates')->where('name', 'Mikrotik VPN Low Traffic')->value('message');
        $this->assertStringContainsString('{$vpn_threshold}', $message);
        $this->assertStringContainsString('{$vpn_used_percent}', $message);
        // Once each: the next crons send nothing more.
        StandIn::runHook('AfterCronJob', []);
        StandIn::runHook('AfterCronJob', []);
        $this->assertCount(3, $this->emailsFor($service));

        $fields = StandIn::call('AdminServicesTabFields', StandIn::params($service));
        $row = $fields['Traffic thresholds reached this cycle'];
        foreach (['50%', '80%', '1 GB'] as $threshold) {
            $this->assertStringContainsString('<bdi dir="ltr">' . $threshold . '</bdi>', $row);
        }
        $_SESSION = ['adminlang' => 'german'];
        $de = StandIn::call('AdminServicesTabFields', StandIn::params($service));
        $this->assertArrayHasKey(Lang::load('german')['thresholds_reached'], $de);

        $_SESSION = [];
        $result = StandIn::call('ClientArea', StandIn::params($service));
        $html = StandIn::renderClientArea($result);
        $this->assertStringContainsString('Traffic thresholds reached this cycle: <bdi dir="ltr">50%, 80%, 1 GB</bdi>', $html);
    }

    public function testTheClientAreaSaysNothingBeforeAThresholdIsReached(): void
    {
        $service = $this->createdService();
        $html = StandIn::renderClientArea(StandIn::call('ClientArea', StandIn::params($service)));
        $this->assertStringNotContainsString('mvpn-thresholds', $html);
        $this->assertArrayNotHasKey('Traffic thresholds reached this cycle', StandIn::call('AdminServicesTabFields', StandIn::params($service)));
    }

    public function testAThresholdOver100PercentIsRefusedAtCreateNamingTheSettingInTheAdminsLanguage(): void
    {
        $product = $this->product(['lowTrafficThresholdGb' => '50%, 150%'], 'VPN bad thresholds');
        $_SESSION = ['adminlang' => 'german'];
        $serviceId = $this->service(['packageid' => $product]);
        $result = StandIn::call('CreateAccount', StandIn::params($serviceId));
        $this->assertStringContainsString('Moduleinstellungen des Produkts sind ungültig', $result);
        $this->assertStringContainsString(Lang::load('german')['setting_lowTrafficThresholdGb'] . ' (150%: over 100 %)', $result);
        $this->assertNull($this->account($serviceId), 'nothing created');
    }
}
