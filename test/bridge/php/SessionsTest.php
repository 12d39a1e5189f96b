<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Server\MikrotikVpn\Format;
use WHMCS\Module\Server\MikrotikVpn\Lang;
use WHMCS\Module\Server\MikrotikVpn\SessionView;
use WhmcsStandIn\StandIn;

/**
 * The session log through the module: the client area's recent connections. The sessions are real:
 * logins on the simulated router, recorded by the server's collections.
 */
class SessionsTest extends BridgeTestCase
{
    const CALLER = '198.51.100.23';

    /** @var int */
    private static $server = 0;
    /** @var int */
    private static $service = 0;

    protected function tearDown(): void
    {
        $_SESSION = [];
    }

    private function server_(): int
    {
        if (self::$server === 0) {
            // A server record of its own (same simulated router, its own addresses): its collections
            // concern only this test's accounts.
            self::$server = $this->server(['name' => 'Sessions router', 'assignedips' => "10.79.0.2\r\n10.79.0.3\r\n10.79.0.4"]);
        }
        return self::$server;
    }

    private function service_(): int
    {
        if (self::$service === 0) {
            self::$service = $this->createdService(['server' => $this->server_()]);
        }
        return self::$service;
    }

    private function field(int $serviceId, string $column): string
    {
        return (string) Capsule::table('tblhosting')->where('id', $serviceId)->value($column);
    }

    private function routerId(): string
    {
        $r = $this->gql('query($s: Int!) { routerForServer(serverId: $s) { id } }', ['s' => $this->server_()]);
        $this->assertArrayNotHasKey('errors', $r, json_encode($r));
        return (string) $r['data']['routerForServer']['id'];
    }

    /** The service's sessions and time zone, from the server directly. */
    private function sessions(int $serviceId): array
    {
        $r = $this->gql('query($s: Int!) { vpnAccount(serviceId: $s) { timeZone } sessions(serviceId: $s, first: 100) { nodes { '
            . SessionView::FIELDS . ' } } }', ['s' => $serviceId]);
        $this->assertArrayNotHasKey('errors', $r, json_encode($r));
        return $r['data']['sessions']['nodes'];
    }

    private function zone(int $serviceId): string
    {
        $r = $this->gql('query($s: Int!) { vpnAccount(serviceId: $s) { timeZone } }', ['s' => $serviceId]);
        return (string) $r['data']['vpnAccount']['timeZone'];
    }

    /** Collects this router until $done() holds (a collection of the server may be running at that moment). */
    private function collectUntil(callable $done): void
    {
        $router = $this->routerId();
        $r = null;
        for ($i = 0; $i < 40; $i++) {
            $r = $this->gql('mutation($r: ID) { collectTraffic(routerId: $r) { routers { ok error } } }', ['r' => $router]);
            $this->assertArrayNotHasKey('errors', $r, json_encode($r));
            if ($done()) {
                return;
            }
            usleep(250000);
        }
        $this->fail('the collections never showed it: ' . json_encode($r));
    }

    private function render(int $serviceId, array $session = []): string
    {
        $_SESSION = $session;
        StandIn::resetRecords();
        return StandIn::renderClientArea(StandIn::call('ClientArea', StandIn::params($serviceId)));
    }

    /** @return array<int,array<int,string>> the cells of each row of the client area's connections table */
    private function clientRows(string $html): array
    {
        $this->assertMatchesRegularExpression('#<table class="table table-condensed table-sm table-striped mvpn-sessions-table">#', $html);
        preg_match('#mvpn-sessions-table">(.*?)</table>#s', $html, $table);
        preg_match_all('#<tr class="mvpn-session[^"]*">(.*?)</tr>#s', $table[1], $rows);
        return array_map(function ($row) {
            preg_match_all('#<td[^>]*>(.*?)</td>#s', $row, $cells);
            return array_map(function ($c) {
                return trim(html_entity_decode(strip_tags($c), ENT_QUOTES, 'UTF-8'));
            }, $cells[1]);
        }, $rows[1]);
    }

    private function calls(string $action): array
    {
        return array_values(array_filter(StandIn::$moduleLog, function ($e) use ($action) {
            return $e['action'] === $action;
        }));
    }

    public function test01BeforeAnyLoginTheClientAreaSaysNoConnectionsYet(): void
    {
        $html = $this->render($this->service_());
        $this->assertStringContainsString('<strong>Recent connections</strong>', $html);
        $this->assertStringContainsString('<p class="text-muted mb-0 mvpn-sessions-none">No connections have been recorded yet.</p>', $html);
        $this->assertStringNotContainsString('mvpn-sessions-table', $html);
    }

    public function test02TheClientAreaShowsALoginOnceACollectionSawIt(): void
    {
        $service = $this->service_();
        $address = $this->field($service, 'dedicatedip');
        $this->sim('connect', ['name' => $this->field($service, 'username'), 'callerId' => self::CALLER, 'upSeconds' => 300]);
        $this->collectUntil(function () use ($service) {
            return count($this->sessions($service)) === 1;
        });
        $this->sim('traffic', ['target' => $address, 'download' => '1500000000', 'upload' => '2500000']);
        $this->collectUntil(function () use ($service) {
            return Format::int($this->sessions($service)[0]['downloadBytes']) === 1500000000;
        });
        $session = $this->sessions($service)[0];
        $zone = $this->zone($service);

        // PHP's own zone is not the account's: the screens show the account's (the server's WHMCS zone).
        $phpZone = date_default_timezone_get();
        date_default_timezone_set('Pacific/Kiritimati');
        try {
            $html = $this->render($service);
        } finally {
            date_default_timezone_set($phpZone);
        }
        $rows = $this->clientRows($html);
        $this->assertCount(1, $rows);
        $start = (new DateTimeImmutable($session['startedAt']))->setTimezone(new DateTimeZone($zone))->format('Y-m-d H:i:s');
        $this->assertSame([$start, Format::uptime($session['durationSeconds']), self::CALLER, $address, '1.50 GB', '2.50 MB', 'Connected now'], $rows[0]);
        $this->assertGreaterThanOrEqual(300, $session['durationSeconds'], 'up for 5 minutes when first seen');
        $this->assertStringContainsString('<tr class="mvpn-session mvpn-session-open">', $html);
        $this->assertStringContainsString('<td class="mvpn-session-caller"><bdi dir="ltr">' . self::CALLER . '</bdi></td>', $html);
        $this->assertStringContainsString('<td class="mvpn-session-download"><bdi dir="ltr">1.50</bdi> GB</td>', $html);
        $this->assertStringContainsString('mvpn-sessions-zone">Times in ' . $zone . '.</p>', $html);
        foreach (['Started', 'Duration', 'Connected from', 'Address', 'Download', 'Upload', 'Ended'] as $header) {
            $this->assertStringContainsString('<th>' . $header . '</th>', $html);
        }

        // One operation: the account and its sessions in the same request.
        $calls = $this->calls('ClientArea');
        $this->assertCount(1, $calls, 'the client area makes one call');
        $this->assertMatchesRegularExpression('/vpnAccount\(serviceId: \$s\) \{.* timeZone \} sessions\(serviceId: \$s, first: 20\) \{ nodes \{ id /', $calls[0]['request']);
    }

    public function test03TheConnectionsSpeakTheCustomersLanguageRightToLeft(): void
    {
        $ar = Lang::load('arabic');
        $html = $this->render($this->service_(), ['Language' => 'arabic']);
        $this->assertStringContainsString('dir="rtl"', $html);
        $this->assertStringContainsString('<strong>' . $ar['sessions_title'] . '</strong>', $html);
        $this->assertStringContainsString('<th>' . $ar['sessions_start'] . '</th>', $html);
        $this->assertStringContainsString($ar['sessions_open'], $html);
        // The number reads left to right, the unit follows the text's direction.
        $this->assertStringContainsString('<bdi dir="ltr">1.50</bdi> ' . $ar['unit_gb'] . '</td>', $html);
        $this->assertStringContainsString('<bdi dir="ltr">2.50</bdi> ' . $ar['unit_mb'] . '</td>', $html);
        $this->assertStringNotContainsString('Recent connections', $html);
    }

    public function test04EndReasonsAreTranslatedAndUnknownOnesKept(): void
    {
        $en = new Lang('english');
        $ru = new Lang('russian');
        foreach (['disconnected', 'router restarted', 'limited', 'suspended', 'reset', 'terminated', 'moved to another server',
            'reconnected for a new package', 'duplicate session'] as $reason) {
            $key = 'session_end_' . str_replace(' ', '_', $reason);
            $this->assertArrayHasKey($key, Lang::load('english'), $reason);
            $this->assertSame(Lang::load('russian')[$key], SessionView::endReason($reason, $ru));
            $this->assertNotSame($key, SessionView::endReason($reason, $en));
        }
        $this->assertSame('traffic used up', SessionView::endReason('limited', $en));
        $this->assertSame('cosmic rays', SessionView::endReason('cosmic rays', $ru), 'an unknown reason as the server wrote it');
        $this->assertSame('', SessionView::endReason(null, $en));
    }
}
