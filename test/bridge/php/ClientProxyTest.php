<?php

use WHMCS\Module\Server\MikrotikVpn\ClientProxy;
use WHMCS\Module\Server\MikrotikVpn\ClientScreen;
use WHMCS\Module\Server\MikrotikVpn\Config;
use WHMCS\Module\Server\MikrotikVpn\ErrorCode;
use WhmcsStandIn\StandIn;

/**
 * The usage page through WHMCS (proxy mode): the module's usageData action forwards only the page's
 * own operations, only for the client who owns the service, with the page's client token (never the
 * module's API key), and answers errors as JSON. Direct mode: the mount point and the warnings about
 * a browser URL no customer reaches.
 */
class ClientProxyTest extends BridgeTestCase
{
    /** @var int */
    private static $service = 0;
    /** @var int another client's service */
    private static $foreign = 0;
    /** @var int */
    private static $otherClient = 0;

    protected function setUp(): void
    {
        parent::setUp();
        unset($_SESSION['uid']);
        if (self::$service === 0) {
            self::$service = $this->createdService();
            self::$otherClient = $this->client(['firstname' => 'Mallory', 'email' => 'mallory@example.test']);
            self::$foreign = $this->createdService(['userid' => self::$otherClient]);
        }
    }

    private function token(int $serviceId): string
    {
        $params = StandIn::params($serviceId);
        $r = $this->gql('mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s) { token } }',
            ['c' => $params['userid'], 's' => [$serviceId]]);
        return $r['data']['mintClientToken']['token'];
    }

    private function body(string $name, array $variables = [], ?string $query = null): string
    {
        $operations = ClientProxy::operations();
        return json_encode(['operationName' => $name, 'query' => $query !== null ? $query : $operations[$name],
            'variables' => (object) $variables]);
    }

    private function ask(int $serviceId, string $body, ?string $token = null, string $method = 'POST'): array
    {
        return ClientProxy::answer(StandIn::params($serviceId), $method, $body, $token !== null ? $token : $this->token($serviceId));
    }

    private function assertRefused(array $answer, int $status, string $code): void
    {
        $this->assertSame($status, $answer['status'], json_encode($answer));
        $this->assertSame($code, $answer['body']['errors'][0]['extensions']['code']);
        $this->assertArrayNotHasKey('data', $answer['body']);
    }

    private function forwarded(): array
    {
        return array_values(array_filter(StandIn::$moduleRequests, function ($r) {
            return strpos($r['action'], 'UsageData') === 0;
        }));
    }

    public function testTheOwnerGetsThePagesDataThroughWhmcs(): void
    {
        $token = $this->token(self::$service);
        $_SESSION['uid'] = self::$clientId;
        $answer = $this->ask(self::$service, $this->body('MvpnUsageAccount', ['s' => self::$service]), $token);
        $this->assertSame(200, $answer['status'], json_encode($answer));
        $this->assertSame('ACTIVE', $answer['body']['data']['vpnAccount']['status']);
        $this->assertArrayNotHasKey('errors', $answer['body']);
        // Forwarded once, with the token masked in the module log; the admin key is never sent along.
        $this->assertCount(1, $this->forwarded());
        $this->assertNoSecretsLogged([$token, getenv('BRIDGE_API_KEY')]);
        $days = $this->ask(self::$service, $this->body('MvpnUsageDays', ['s' => self::$service,
            'from' => gmdate('Y-m-d\TH:i:s\Z', time() - 86400), 'to' => gmdate('Y-m-d\TH:i:s\Z', time() + 86400)]), $token);
        $this->assertSame(200, $days['status'], json_encode($days));
        $this->assertIsArray($days['body']['data']['vpnAccount']['usage']);
    }

    public function testAnotherCustomerGetsNothing(): void
    {
        // Mallory is logged in and opens the action on Grace's service (as if WHMCS let the URL through).
        $_SESSION['uid'] = self::$otherClient;
        $answer = $this->ask(self::$service, $this->body('MvpnUsageAccount', ['s' => self::$service]));
        $this->assertRefused($answer, 403, ErrorCode::FORBIDDEN);
        // Nobody logged in at all.
        unset($_SESSION['uid']);
        $this->assertRefused($this->ask(self::$service, $this->body('MvpnUsageAccount')), 403, ErrorCode::FORBIDDEN);
        $this->assertSame([], $this->forwarded(), 'nothing may reach the server');
    }

    public function testTheServiceIsTheOneOfTheUrlWhateverTheVariablesSay(): void
    {
        // Mallory on her own service asks for Grace's, with Grace's token (say it leaked): the module
        // sets the service to hers, which Grace's token does not cover.
        $_SESSION['uid'] = self::$otherClient;
        $answer = $this->ask(self::$foreign, $this->body('MvpnUsageAccount', ['s' => self::$service]), $this->token(self::$service));
        $this->assertSame(self::$foreign, $this->sentVariables('UsageData MvpnUsageAccount')['s']);
        $this->assertTrue(empty($answer['body']['data']['vpnAccount']), 'a token read a service it does not cover: ' . json_encode($answer));
        $this->assertArrayHasKey('errors', $answer['body']);
    }

    public function testOnlyThePagesOwnOperationsAreForwarded(): void
    {
        $_SESSION['uid'] = self::$clientId;
        $token = $this->token(self::$service);
        $refused = [
            // An operation the page does not have.
            json_encode(['operationName' => 'Mint', 'query' => 'mutation Mint { mintClientToken(clientId: 1, serviceIds: [1]) { token } }']),
            // A page operation's name with another document (one more field).
            $this->body('MvpnUsageAccount', ['s' => self::$service],
                str_replace('status ', 'status username password ', ClientProxy::operations()['MvpnUsageAccount'])),
            // The document without its name, or the name with no document.
            json_encode(['query' => ClientProxy::operations()['MvpnUsageAccount'], 'variables' => ['s' => self::$service]]),
            json_encode(['operationName' => 'MvpnUsageAccount']),
            // Not an object of variables; not JSON; a batch.
            json_encode(['operationName' => 'MvpnUsageAccount', 'query' => ClientProxy::operations()['MvpnUsageAccount'], 'variables' => [1, 2]]),
            '{"operationName": ',
            json_encode([json_decode($this->body('MvpnUsageAccount'), true)]),
        ];
        foreach ($refused as $body) {
            $this->assertRefused($this->ask(self::$service, $body, $token), 400, ErrorCode::VALIDATION);
        }
        // Too large a body (the page's are a few hundred bytes).
        $big = $this->body('MvpnUsageAccount', ['s' => self::$service, 'pad' => str_repeat('x', ClientProxy::MAX_BODY_BYTES)]);
        $this->assertRefused($this->ask(self::$service, $big, $token), 413, ErrorCode::VALIDATION);
        // GET, and a credential that is not a client token (an API key is never forwarded).
        $this->assertRefused($this->ask(self::$service, $this->body('MvpnUsageAccount'), $token, 'GET'), 405, ErrorCode::VALIDATION);
        $this->assertRefused($this->ask(self::$service, $this->body('MvpnUsageAccount'), (string) getenv('BRIDGE_API_KEY')), 401, ErrorCode::UNAUTHENTICATED);
        $this->assertRefused($this->ask(self::$service, $this->body('MvpnUsageAccount'), ''), 401, ErrorCode::UNAUTHENTICATED);
        $this->assertSame([], $this->forwarded(), 'nothing may reach the server');
    }

    public function testTheServersErrorsReachThePageAsJsonWithTheirCode(): void
    {
        $_SESSION['uid'] = self::$clientId;
        $answer = $this->ask(self::$service, $this->body('MvpnUsageAccount'), 'mvpnc.forged.token');
        $this->assertRefused($answer, 401, ErrorCode::UNAUTHENTICATED);
        $this->assertSame(['code', 'reason'], array_keys($answer['body']['errors'][0]['extensions']));
        // The server not answering: a code the page shows as "cannot be loaded", no private URL.
        $this->useConfig(['graphql_url' => 'http://127.0.0.1:9/graphql', 'connect_timeout' => 2]);
        $answer = $this->ask(self::$service, $this->body('MvpnUsageAccount'), 'mvpnc.any.token');
        $this->assertRefused($answer, 502, ErrorCode::INTERNAL_SERVER_ERROR);
        $this->assertStringNotContainsString('127.0.0.1', json_encode($answer));
    }

    public function testTheModuleActionAnswersJsonAndEndsTheRequest(): void
    {
        $this->assertSame(['usageData'], StandIn::call('ClientAreaAllowedFunctions'));
        $_SESSION['uid'] = self::$clientId;
        // php-cli has no request method: refused, as JSON, and WHMCS's page never drawn.
        $out = StandIn::output('usageData', StandIn::params(self::$service));
        $decoded = json_decode($out, true);
        $this->assertSame(ErrorCode::VALIDATION, $decoded['errors'][0]['extensions']['code'], $out);
    }

    public function testDirectModeIsAnOption(): void
    {
        $this->useConfig(['client_area_mode' => 'direct', 'browser_graphql_url' => 'https://billing.example.test/mvpn/graphql']);
        $_SESSION = [];
        $html = StandIn::renderClientArea(StandIn::call('ClientArea', StandIn::params(self::$service)));
        $this->assertStringContainsString('data-graphql-url="https://billing.example.test/mvpn/graphql"', $html);
        $this->assertStringNotContainsString('data-proxy-url', $html);
        // The proxy is off then.
        $_SESSION['uid'] = self::$clientId;
        $this->assertRefused($this->ask(self::$service, $this->body('MvpnUsageAccount')), 403, ErrorCode::FORBIDDEN);
    }

    public function testDirectModeWarnsAboutABrowserUrlNoCustomerReaches(): void
    {
        $problem = function (array $overrides) {
            $this->useConfig($overrides);
            return ClientScreen::directUrlProblem(Config::get());
        };
        $this->assertSame('', $problem([]), 'proxy mode needs no browser URL');
        foreach (['http://127.0.0.1:4000/graphql', 'http://127.1.2.3/graphql', 'http://localhost:4001/graphql',
            'http://[::1]:4001/graphql', 'http://api.localhost/graphql', ''] as $url) {
            $this->assertSame('direct_url_loopback', $problem(['client_area_mode' => 'direct', 'browser_graphql_url' => $url]), $url);
        }
        // Empty falls back to graphql_url, a loopback address here too.
        $this->assertSame('direct_url_loopback', $problem(['client_area_mode' => 'direct']));
        $this->assertSame('direct_url_unreachable', $problem(['client_area_mode' => 'direct',
            'browser_graphql_url' => 'http://nothing-here.invalid/graphql']));

        // The admin tab says so, in the admin's language.
        $this->useConfig(['client_area_mode' => 'direct', 'browser_graphql_url' => 'http://127.0.0.1:4000/graphql']);
        $_SESSION['adminlang'] = 'german';
        $fields = StandIn::call('AdminServicesTabFields', StandIn::params(self::$service));
        $this->assertArrayHasKey('Datenverkehrsstatistik (Direktmodus)', $fields);
        $this->assertStringContainsString('Loopback-Adresse', $fields['Datenverkehrsstatistik (Direktmodus)']);
        $this->useConfig([]);
        $fields = StandIn::call('AdminServicesTabFields', StandIn::params(self::$service));
        $this->assertArrayNotHasKey('Datenverkehrsstatistik (Direktmodus)', $fields);
    }
}
