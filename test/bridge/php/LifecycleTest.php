<?php

use WHMCS\Database\Capsule;
use WhmcsStandIn\StandIn;

/** Every lifecycle function and admin button, against the server and the simulated router. */
class LifecycleTest extends BridgeTestCase
{
    public function testCreateGeneratesAUsernameAndSavesTheDedicatedIp(): void
    {
        $serviceId = $this->service();
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::params($serviceId)));
        $row = Capsule::table('tblhosting')->where('id', $serviceId)->first();
        $this->assertMatchesRegularExpression('/^vpn[a-z2-9]{6}$/', $row->username);
        $this->assertMatchesRegularExpression('/^10\.77\.\d+\.\d+$/', $row->dedicatedip);
        $account = $this->account($serviceId);
        $this->assertSame(['username' => $row->username, 'status' => 'ACTIVE', 'statusReason' => null, 'address' => $row->dedicatedip,
            'traffic' => ['balanceBytes' => 10000000000, 'cycleAllowanceBytes' => 10000000000, 'unlimited' => false]], $account);
        $secret = $this->sim('secret', ['name' => $row->username]);
        $this->assertSame('Start-Passw0rd', $secret['password']);
        $this->assertSame('WHMCS-' . $serviceId, $secret['comment']);
        $this->assertSame('l2tp', $secret['service']);
        $this->assertNoSecretsLogged(['Start-Passw0rd', self::ROUTER_PASSWORD, getenv('BRIDGE_API_KEY')]);
        $this->assertSame(['UpsertRouter', 'CreateAccount'], array_column(StandIn::$moduleLog, 'action'));
    }

    public function testCreateWithoutAUsernameStoresTheOneTheServerPicked(): void
    {
        $serviceId = $this->service(['username' => '']);
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::params($serviceId)));
        $this->assertNull($this->sentVariables('CreateAccount')['input']['username'], 'the module makes no user name');
        $stored = Capsule::table('tblhosting')->where('id', $serviceId)->value('username');
        $this->assertSame($this->account($serviceId)['username'], $stored, 'WHMCS keeps the name the server chose');
        $this->assertNotNull($this->sim('secret', ['name' => $stored]));
    }

    public function testCreateKeepsAUsernameWhmcsGaveAndMakesAPasswordWhenThereIsNone(): void
    {
        $serviceId = $this->service(['username' => 'given' . mt_rand(1000, 9999), 'password' => '']);
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::params($serviceId)));
        $row = Capsule::table('tblhosting')->where('id', $serviceId)->first();
        $this->assertStringStartsWith('given', $row->username);
        $password = decrypt($row->password);
        $this->assertGreaterThanOrEqual(12, strlen($password));
        $this->assertSame($password, $this->sim('secret', ['name' => $row->username])['password']);
    }

    public function testCreateTwiceIsHarmless(): void
    {
        $serviceId = $this->createdService();
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::params($serviceId)));
        $this->assertCount(1, $this->topUps($serviceId));
    }

    public function testCreateWithoutAServerIsOneSentence(): void
    {
        $serviceId = $this->service(['server' => 0]);
        $this->assertStringContainsString('No MikroTik server is assigned', StandIn::call('CreateAccount', StandIn::params($serviceId)));
    }

    public function testSuspendUnsuspend(): void
    {
        $serviceId = $this->createdService();
        $username = Capsule::table('tblhosting')->where('id', $serviceId)->value('username');
        $this->sim('connect', ['name' => $username]);
        $this->assertSame('success', StandIn::call('SuspendAccount', StandIn::params($serviceId, ['suspendreason' => 'Overdue on Payment'])));
        $this->assertSame('SUSPENDED', $this->account($serviceId)['status']);
        $this->assertTrue($this->sim('secret', ['name' => $username])['disabled']);
        $this->assertNull($this->sim('active', ['name' => $username]), 'the live session is ended');
        $this->assertSame('success', StandIn::call('UnsuspendAccount', StandIn::params($serviceId)));
        $this->assertSame('ACTIVE', $this->account($serviceId)['status']);
        $this->assertFalse($this->sim('secret', ['name' => $username])['disabled']);
    }

    public function testChangePackageAppliesTheNewProduct(): void
    {
        $serviceId = $this->createdService();
        $bigger = $this->product(['trafficMonthlyGb' => '50', 'downloadMbps' => '100', 'service' => 'sstp'], 'VPN 50 GB');
        Capsule::table('tblhosting')->where('id', $serviceId)->update(['packageid' => $bigger]);
        $this->assertSame('success', StandIn::call('ChangePackage', StandIn::params($serviceId)));
        $this->assertSame(50000000000, $this->account($serviceId)['traffic']['cycleAllowanceBytes']);
        $username = Capsule::table('tblhosting')->where('id', $serviceId)->value('username');
        $this->assertSame('sstp', $this->sim('secret', ['name' => $username])['service']);
    }

    public function testChangePasswordSetsItOnTheRouterAndNeverLogsIt(): void
    {
        $serviceId = $this->createdService();
        $this->assertSame('success', StandIn::call('ChangePassword', StandIn::params($serviceId, ['password' => 'N3w-Secret-Pw'])));
        $username = Capsule::table('tblhosting')->where('id', $serviceId)->value('username');
        $this->assertSame('N3w-Secret-Pw', $this->sim('secret', ['name' => $username])['password']);
        $this->assertNoSecretsLogged(['N3w-Secret-Pw', 'Start-Passw0rd', self::ROUTER_PASSWORD, getenv('BRIDGE_API_KEY')]);
    }

    public function testChangePasswordErrorsSpeakTheCustomersLanguage(): void
    {
        $serviceId = $this->createdService();
        $client = $this->client(['language' => 'german']);
        Capsule::table('tblhosting')->where('id', $serviceId)->update(['userid' => $client]);
        $this->useConfig(['graphql_url' => 'http://127.0.0.1:9/graphql']);
        $message = StandIn::call('ChangePassword', StandIn::params($serviceId, ['password' => 'Another-Pw1']));
        $this->assertStringContainsString('nicht erreichbar', $message);
    }

    public function testResetConnectionKicksTheSession(): void
    {
        $serviceId = $this->createdService();
        $username = Capsule::table('tblhosting')->where('id', $serviceId)->value('username');
        $this->sim('connect', ['name' => $username]);
        $buttons = StandIn::call('AdminCustomButtonArray');
        $this->assertSame('ResetConnection', $buttons['Reset connection']);
        $this->assertSame('InstallEmailTemplates', $buttons['Install email templates']);
        $this->assertSame('success', StandIn::call('ResetConnection', StandIn::params($serviceId)));
        $this->assertNull($this->sim('active', ['name' => $username]));
    }

    public function testTerminateRemovesTheAccountAndIsIdempotent(): void
    {
        $serviceId = $this->createdService();
        $username = Capsule::table('tblhosting')->where('id', $serviceId)->value('username');
        $this->assertSame('success', StandIn::call('TerminateAccount', StandIn::params($serviceId)));
        $this->assertNull($this->sim('secret', ['name' => $username]));
        $this->assertSame('TERMINATED', $this->account($serviceId)['status']);
        $this->assertSame('success', StandIn::call('TerminateAccount', StandIn::params($serviceId)));
        $this->assertSame('success', StandIn::call('TerminateAccount', StandIn::params($this->service())), 'never created: nothing to remove');
    }

    public function testTerminateOfAServiceThatNeverHadAnAccountIsSuccess(): void
    {
        $serviceId = $this->service();
        $this->assertSame('success', StandIn::call('TerminateAccount', StandIn::params($serviceId)));
        // The server answered NothingToTerminate (a result, not an error whose text PHP would match).
        $this->assertStringContainsString('NothingToTerminate', end(StandIn::$moduleLog)['response']);
        $this->assertNull($this->account($serviceId));
        $this->assertSame([], StandIn::$activityLog);
    }

    public function testRouterDownIsOneSentence(): void
    {
        $serviceId = $this->createdService();
        $dead = $this->server(['port' => 9]);
        Capsule::table('tblhosting')->where('id', $serviceId)->update(['server' => $dead]);
        $fresh = $this->service(['server' => $dead]);
        $message = StandIn::call('CreateAccount', StandIn::params($fresh));
        $this->assertNotSame('success', $message);
        $this->assertStringNotContainsString("\n", $message);
        $this->assertMatchesRegularExpression('/[.!?]$/', $message);
    }

    public function testRenewCreditsOncePerDueDate(): void
    {
        $serviceId = $this->createdService(['nextduedate' => '2026-12-01']);
        $invoice = $this->paidInvoice('Hosting', $serviceId);
        $this->assertSame('success', StandIn::call('Renew', StandIn::params($serviceId)));
        $this->assertSame('success', StandIn::call('Renew', StandIn::params($serviceId)), 'WHMCS calling twice credits once');
        $cycle = $this->topUps($serviceId, 'CYCLE');
        $this->assertCount(2, $cycle, 'the first allowance at create, then one renewal');
        $this->assertSame((string) $invoice, (string) $cycle[1]['invoice_id']);
        $this->assertStringEndsWith(':due:2026-12-01', $cycle[1]['idempotency_key'], 'the server names the cycle by the due date');
        $this->assertSame(20000000000, $this->account($serviceId)['traffic']['balanceBytes']);
        Capsule::table('tblhosting')->where('id', $serviceId)->update(['nextduedate' => '2027-01-01']);
        $this->assertSame('success', StandIn::call('Renew', StandIn::params($serviceId)));
        $this->assertCount(3, $this->topUps($serviceId, 'CYCLE'));
    }

    public function testRenewRecordsTheLatestPaidInvoiceWhichTheServerFinds(): void
    {
        $serviceId = $this->createdService(['nextduedate' => '2026-12-01']);
        $this->paidInvoice('Hosting', $serviceId, '', ['datepaid' => '2026-11-01 09:00:00']);
        $latest = $this->paidInvoice('Hosting', $serviceId, '', ['datepaid' => '2026-11-30 09:00:00']);
        $this->paidInvoice('Hosting', $serviceId, '', ['datepaid' => '0000-00-00 00:00:00', 'status' => 'Unpaid']);
        $this->paidInvoice('Hosting', $serviceId + 100000, '', ['datepaid' => '2026-12-01 09:00:00']);
        $this->assertSame('success', StandIn::call('Renew', StandIn::params($serviceId)));
        $this->assertSame(['s' => $serviceId], $this->sentVariables('Renew'), 'no invoice, no cycle key from PHP');
        $cycle = $this->topUps($serviceId, 'CYCLE');
        $this->assertCount(2, $cycle);
        $this->assertSame((string) $latest, (string) $cycle[1]['invoice_id'], 'the newest paid invoice of this service');
    }

    public function testRenewWithoutADueDateShowsTheServersMessage(): void
    {
        $serviceId = $this->createdService();
        Capsule::table('tblhosting')->where('id', $serviceId)->update(['nextduedate' => null]);
        $message = StandIn::call('Renew', StandIn::params($serviceId));
        $this->assertSame('WHMCS service ' . $serviceId . ' has no next due date to name the cycle by.', $message);
        $this->assertCount(1, $this->topUps($serviceId, 'CYCLE'), 'nothing credited');
    }

    public function testAdminServicesTabShowsStatusConnectionTrafficAndHistory(): void
    {
        $serviceId = $this->createdService();
        $username = Capsule::table('tblhosting')->where('id', $serviceId)->value('username');
        $this->sim('connect', ['name' => $username]);
        $fields = StandIn::call('AdminServicesTabFields', StandIn::params($serviceId));
        $this->assertStringContainsString('The VPN API server answers.', $fields['VPN API']);
        $this->assertStringContainsString($username, $fields['VPN user']);
        $this->assertStringContainsString('Active', $fields['VPN user']);
        $this->assertStringContainsString('Online', $fields['Connection']);
        $this->assertStringContainsString('10.00 GB', $fields['Traffic']);
        $this->assertStringContainsString('20 Mbit/s', $fields['Traffic']);
        $this->assertStringContainsString('<bdi dir="ltr">+10.00</bdi> GB', $fields['Traffic added']);
        $this->assertStringContainsString('First traffic allowance (Monthly)', $fields['Traffic added'], 'worded from reason and cycle');
        $this->assertStringNotContainsString('&middot;', $fields['Traffic added'], 'the server wrote no description of its own');
    }

    public function testAdminServicesTabShowsWhatTheRouterDidNotTake(): void
    {
        $serviceId = $this->createdService();
        $fields = StandIn::call('AdminServicesTabFields', StandIn::params($serviceId));
        $this->assertArrayNotHasKey('Not applied on the router (retried by reconcile)', $fields);
        // As the server records it when the router refuses a profile (enforcement went through).
        Capsule::table('mod_mikrotikvpn_accounts')->where('service_id', $serviceId)->where('status', '<>', 'TERMINATED')
            ->update(['router_problem' => 'secret not updated (profile default → gold): input does not match any value of profile']);
        $fields = StandIn::call('AdminServicesTabFields', StandIn::params($serviceId));
        $this->assertStringContainsString('input does not match any value of profile',
            $fields['Not applied on the router (retried by reconcile)']);
    }

    public function testAdminServicesTabExplainsAnUnreachableApi(): void
    {
        $serviceId = $this->service();
        $this->useConfig(['graphql_url' => 'http://127.0.0.1:9/graphql']);
        $fields = StandIn::call('AdminServicesTabFields', StandIn::params($serviceId));
        $this->assertSame(['VPN API'], array_keys($fields));
        $this->assertStringContainsString('cannot be reached', $fields['VPN API']);
    }

    public function testListAccountsForServerSync(): void
    {
        $serviceId = $this->createdService();
        $row = Capsule::table('tblhosting')->where('id', $serviceId)->first();
        $result = StandIn::call('ListAccounts', StandIn::serverParams(self::$serverId));
        $this->assertTrue($result['success'], isset($result['error']) ? $result['error'] : '');
        $mine = array_values(array_filter($result['accounts'], function ($a) use ($row) {
            return $a['username'] === $row->username;
        }));
        $this->assertCount(1, $mine);
        $this->assertSame(['email' => 'ada@example.test', 'username' => $row->username, 'domain' => '', 'uniqueIdentifier' => $row->username,
            'product' => 'default', 'primaryip' => $row->dedicatedip, 'status' => 'Active'], array_diff_key($mine[0], ['created' => 1]));
        $this->assertMatchesRegularExpression('/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/', $mine[0]['created']);
    }
}
