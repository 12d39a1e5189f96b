<?php

use WHMCS\Database\Capsule;
use WhmcsStandIn\StandIn;

/** TestConnection, the Access Hash pin, and the errors an admin meets. */
class ServerRecordTest extends BridgeTestCase
{
    private function serverParams(array $fields): array
    {
        return StandIn::serverParams($this->server($fields));
    }

    /** Success as WHMCS reads it, and what the test found (the router; WireGuard interfaces, warnings). */
    private function assertConnected(array $result): void
    {
        $this->assertTrue($result['success'], json_encode($result));
        $this->assertSame('', $result['error']);
        $this->assertStringStartsWith('Connected to MikroTik (RouterOS 7.', $result['message']);
    }

    public function testGoodCredentialsWithThePinnedCaSucceedAndRegisterTheRouter(): void
    {
        $params = $this->serverParams([]);
        $this->assertConnected(StandIn::call('TestConnection', $params));
        $r = $this->gql('{ routers { serverId host port tls caPinned } }');
        $mine = array_values(array_filter($r['data']['routers'], function ($router) use ($params) {
            return $router['serverId'] === $params['serverid'];
        }));
        $this->assertCount(1, $mine);
        $this->assertSame(['serverId' => $params['serverid'], 'host' => '127.0.0.1', 'port' => (int) $this->simInfo()['port'], 'tls' => true, 'caPinned' => true], $mine[0]);
    }

    public function testAFingerprintInTheAccessHashWorksToo(): void
    {
        $params = $this->serverParams(['accesshash' => strtolower(str_replace(':', '', $this->simInfo()['fingerprintSha256']))]);
        $this->assertConnected(StandIn::call('TestConnection', $params));
    }

    public function testAnUnsavedServerRecordCanBeTested(): void
    {
        $params = $this->serverParams([]);
        $params['serverid'] = 0;
        $this->assertConnected(StandIn::call('TestConnection', $params));
    }

    public function testBadCredentialsGiveAClearError(): void
    {
        $result = StandIn::call('TestConnection', $this->serverParams(['password' => encrypt('wrong-password')]));
        $this->assertFalse($result['success']);
        $this->assertStringContainsString('refused the login', $result['error']);
    }

    public function testAWrongPinIsATlsError(): void
    {
        $result = StandIn::call('TestConnection', $this->serverParams(['accesshash' => str_repeat('AB', 32)]));
        $this->assertFalse($result['success']);
        $this->assertStringContainsString('certificate', $result['error']);
    }

    public function testNothingListeningIsExplained(): void
    {
        $result = StandIn::call('TestConnection', $this->serverParams(['port' => 9]));
        $this->assertFalse($result['success']);
        $this->assertStringContainsString('Nothing answers on 127.0.0.1:9', $result['error']);
    }

    public function testAnAccessHashThatIsNeitherPemNorFingerprintIsRefused(): void
    {
        $result = StandIn::call('TestConnection', $this->serverParams(['accesshash' => 'not a pin']));
        $this->assertFalse($result['success']);
        $this->assertStringContainsString('Access Hash', $result['error']);
    }

    public function testTheVpnApiServerDownIsOneSentence(): void
    {
        $this->useConfig(['graphql_url' => 'http://127.0.0.1:9/graphql']);
        $result = StandIn::call('TestConnection', $this->serverParams([]));
        $this->assertFalse($result['success']);
        $this->assertMatchesRegularExpression('/^The VPN API server at http:\/\/127\.0\.0\.1:9\/graphql cannot be reached \(.+\)\. Check/', $result['error']);
    }

    public function testAWrongApiKeyIsExplained(): void
    {
        $this->useConfig(['api_key' => 'mvpn_not-a-key']);
        $result = StandIn::call('TestConnection', $this->serverParams([]));
        $this->assertFalse($result['success']);
        $this->assertStringContainsString('refused the API key', $result['error']);
    }

    public function testAMissingConfigurationIsExplained(): void
    {
        putenv('MIKROTIKVPN_CONFIG=' . getenv('BRIDGE_WORK_DIR') . '/does-not-exist.php');
        \WHMCS\Module\Server\MikrotikVpn\Config::reset();
        $result = StandIn::call('TestConnection', $this->serverParams([]));
        $this->assertStringContainsString('config.php', $result['error']);
    }

    public function testSecretsNeverReachTheModuleLog(): void
    {
        StandIn::call('TestConnection', $this->serverParams([]));
        StandIn::call('TestConnection', $this->serverParams(['password' => encrypt('wrong-password')]));
        $this->assertNoSecretsLogged([self::ROUTER_PASSWORD, 'wrong-password', getenv('BRIDGE_API_KEY')]);
        $this->assertSame(['TestConnection', 'UpsertRouter', 'TestConnection'], array_column(StandIn::$moduleLog, 'action'));
        $this->assertStringContainsString('testRouterConnection', StandIn::$moduleLog[0]['request']);
    }
}
