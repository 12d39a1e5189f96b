<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Server\MikrotikVpn\AddressLookup;
use WHMCS\Module\Server\MikrotikVpn\Format;
use WHMCS\Module\Server\MikrotikVpn\Lang;
use WHMCS\Module\Server\MikrotikVpn\SessionExport;
use WHMCS\Module\Server\MikrotikVpn\SessionView;
use WhmcsStandIn\StandIn;

/**
 * The session log through the module: the client area's recent connections, the admin tab's list
 * with its CSV, second logins ended by One session per account, and "Who had this address?". The
 * sessions are real: logins on the simulated router, recorded by the server's collections.
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

    private function adminFields(int $serviceId, array $session = []): array
    {
        $_SESSION = $session;
        StandIn::resetRecords();
        return StandIn::call('AdminServicesTabFields', StandIn::params($serviceId));
    }

    private function adminArea(): void
    {
        if (!defined('ADMINAREA')) {
            define('ADMINAREA', true);
        }
    }

    private function lookup(string $address, string $at, string $zone = 'UTC', array $session = []): string
    {
        $_SESSION = $session;
        StandIn::resetRecords();
        return AddressLookup::page(StandIn::params($this->service_()),
            ['mvpn_address' => $address, 'mvpn_at' => $at, 'mvpn_tz' => $zone, 'mvpn_lookup' => '1']);
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

    public function test04TheAdminTabListsTheSessionWithItsCsvAndTheAddressPage(): void
    {
        $service = $this->service_();
        $fields = $this->adminFields($service);
        $this->assertArrayHasKey('Recent connections', $fields);
        $html = $fields['Recent connections'];
        $this->assertStringContainsString('<code class="mvpn-session-caller">' . self::CALLER . '</code>', $html);
        $this->assertStringContainsString('<code class="mvpn-session-address">' . $this->field($service, 'dedicatedip') . '</code>', $html);
        $this->assertStringContainsString('<td>L2TP</td>', $html);
        $this->assertStringContainsString('Connected now', $html);
        $this->assertStringContainsString('<bdi dir="ltr">1.50</bdi> GB', $html);
        $this->assertSame(1, preg_match_all('/<tr class="mvpn-session"/', $html));
        $base = 'clientsservices.php?userid=' . self::$clientId . '&amp;id=' . $service . '&amp;modop=custom&amp;ac=';
        $this->assertStringContainsString('<a class="btn btn-default btn-sm mvpn-sessions-csv" href="' . $base . 'SessionsCsv&amp;token=' . StandIn::CSRF_TOKEN . '">Download CSV</a>', $html);
        $this->assertStringContainsString('<a class="btn btn-default btn-sm mvpn-owner-link" target="_blank" rel="noopener" href="' . $base
            . 'AddressOwner&amp;token=' . StandIn::CSRF_TOKEN . '&amp;mvpn_address=' . $this->field($service, 'dedicatedip')
            . '&amp;mvpn_tz=' . rawurlencode($this->zone($service)) . '">Who had this address?</a>', $html);
        $this->assertArrayNotHasKey('Second connections ended', $fields, 'none were ended');
        $this->assertCount(2, $this->calls('AdminServicesTabFields'), 'the sessions come with the history: no call more');

        $de = $this->adminFields($service, ['adminlang' => 'german']);
        $this->assertArrayHasKey('Letzte Verbindungen', $de);
        $this->assertStringContainsString('Jetzt verbunden', $de['Letzte Verbindungen']);
        $this->assertStringContainsString('>CSV herunterladen</a>', $de['Letzte Verbindungen']);
    }

    public function test05TheExportAndTheAddressPageRunOnlyInTheAdminArea(): void
    {
        $this->assertFalse(defined('ADMINAREA'), 'this test runs before any defines it');
        $params = StandIn::params($this->service_());
        $refused = Lang::load('english')['err_admin_only'];
        $this->assertSame($refused, StandIn::call('SessionsCsv', $params));
        $this->assertSame($refused, StandIn::call('AddressOwner', $params));
        $this->assertSame([], $this->calls('SessionsCsv'));
        $this->assertSame([], $this->calls('AddressOwner'));
    }

    public function test06TheCsvHasEverySessionInUtcWithExactBytes(): void
    {
        $this->adminArea();
        $service = $this->service_();
        $session = $this->sessions($service)[0];
        StandIn::resetRecords();
        $csv = SessionExport::csv(StandIn::params($service));
        $this->assertMatchesRegularExpression('/^sessions-service-' . $service . '-\d{8}-\d{6}\.csv$/', $csv['fileName']);
        $this->assertSame([
            'Content-Type: text/csv; charset=utf-8',
            'Content-Disposition: attachment; filename="' . $csv['fileName'] . '"',
            'Cache-Control: no-store',
            'X-Content-Type-Options: nosniff',
        ], $csv['headers']);
        $lines = explode("\r\n", $csv['body']);
        $this->assertSame('started_at,ended_at,end_exact,end_reason,caller_id,address,download_bytes,upload_bytes', $lines[0]);
        $this->assertSame('', end($lines), 'every line ends with CRLF');
        $this->assertCount(3, $lines);
        $started = (new DateTimeImmutable($session['startedAt']))->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s.v\Z');
        $this->assertSame($started . ',,false,,' . self::CALLER . ',' . $this->field($service, 'dedicatedip') . ',1500000000,2500000', $lines[1]);
        $this->assertMatchesRegularExpression('/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,/', $lines[1]);
        $this->assertCount(1, $this->calls('SessionsCsv'), 'one page');

        // Through WHMCS: the module function answers the download and ends the request.
        $body = StandIn::output('SessionsCsv', StandIn::params($service));
        $this->assertSame($csv['body'], $body);
    }

    public function test07TheCsvPagesThroughMoreSessionsThanAPageHolds(): void
    {
        $this->adminArea();
        $service = $this->createdService(['server' => $this->server_()]);
        $username = $this->field($service, 'username');
        for ($i = 0; $i < 101; $i++) {
            $this->sim('connect', ['name' => $username, 'callerId' => '192.0.2.' . ($i + 1), 'another' => $i > 0]);
        }
        try {
            $this->collectUntil(function () use ($service) {
                return count($this->sessions($service)) === 100;
            });
            StandIn::resetRecords();
            $csv = SessionExport::csv(StandIn::params($service));
            $this->assertSame(101, $csv['rows']);
            $calls = array_values(array_filter(StandIn::$moduleRequests, function ($e) {
                return $e['action'] === 'SessionsCsv';
            }));
            $this->assertCount(2, $calls, 'two pages of the same operation');
            $this->assertNull($calls[0]['request']['variables']['a']);
            $this->assertNotEmpty($calls[1]['request']['variables']['a'], 'the second page starts after the first');
            $callers = array_map(function ($line) {
                return explode(',', $line)[4];
            }, array_slice(explode("\r\n", trim($csv['body'])), 1));
            sort($callers);
            $expected = array_map(function ($i) {
                return '192.0.2.' . $i;
            }, range(1, 101));
            sort($expected);
            $this->assertSame($expected, $callers, 'each session once');

            $fields = $this->adminFields($service);
            $this->assertSame(50, preg_match_all('/<tr class="mvpn-session"/', $fields['Recent connections']), 'the tab lists the newest 50');
            $this->assertStringContainsString('Only the 50 newest connections are listed; the CSV has them all.', $fields['Recent connections']);
        } finally {
            $this->assertSame(101, $this->sim('disconnect-all', ['name' => $username]));
        }
    }

    public function test08OneSessionPerAccountEndsTheSecondLoginAndTheTabCountsIt(): void
    {
        $product = $this->product(['singleSession' => 'on'], 'VPN one session');
        $service = $this->createdService(['packageid' => $product, 'server' => $this->server_()]);
        $username = $this->field($service, 'username');
        $this->sim('connect', ['name' => $username, 'callerId' => '192.0.2.200', 'upSeconds' => 60]);
        $this->collectUntil(function () use ($service) {
            return count($this->sessions($service)) === 1;
        });
        $this->sim('connect', ['name' => $username, 'callerId' => '192.0.2.201', 'another' => true]);
        try {
            $this->collectUntil(function () use ($service) {
                $ended = array_filter($this->sessions($service), function ($s) {
                    return $s['endReason'] === 'duplicate session';
                });
                return count($ended) === 1;
            });
            $fields = $this->adminFields($service);
            $this->assertSame('<span class="label label-warning badge badge-warning">1</span> '
                . 'Ended because the account was already connected (One session per account).', $fields['Second connections ended']);
            $this->assertStringContainsString('second connection ended: one session per account', $fields['Recent connections']);
            $this->assertStringContainsString('<span class="mvpn-session-reason">', $fields['Recent connections']);

            $rows = $this->clientRows($this->render($service, ['Language' => 'german']));
            $this->assertCount(2, $rows);
            $reasons = array_column($rows, 6);
            $this->assertContains('Jetzt verbunden', $reasons, 'the older login stays');
            $this->assertCount(1, preg_grep('/\(zweite Verbindung beendet: eine Sitzung pro Konto\)$/', $reasons), implode(' | ', $reasons));
        } finally {
            $this->sim('disconnect-all', ['name' => $username]);
        }
    }

    public function test09WhoHadTheAddressAnswersWithTheAccountDuringItsSession(): void
    {
        $this->adminArea();
        $service = $this->service_();
        $address = $this->field($service, 'dedicatedip');
        $zone = $this->zone($service);
        $at = (new DateTimeImmutable('-60 seconds', new DateTimeZone($zone)))->format('Y-m-d H:i:s');
        $html = $this->lookup($address, $at, $zone);
        $this->assertStringContainsString('class="mvpn-owner-answer mvpn-owner-found"', $html);
        $this->assertStringContainsString('<a class="mvpn-owner-service" href="clientsservices.php?userid=' . self::$clientId . '&amp;id=' . $service . '">#' . $service . '</a>', $html);
        $this->assertStringContainsString('<code class="mvpn-owner-username">' . $this->field($service, 'username') . '</code>', $html);
        $this->assertStringContainsString('<a class="mvpn-owner-client" href="clientssummary.php?userid=' . self::$clientId . '">Ada Lovelace #' . self::$clientId . '</a>', $html);
        $this->assertStringContainsString('<code class="mvpn-owner-caller">' . self::CALLER . '</code>', $html);
        $this->assertStringContainsString('<td class="mvpn-owner-end">Connected now</td>', $html);
        $this->assertStringContainsString('<p class="mvpn-owner-certain">Certain: the session held the address at that time.</p>', $html);
        // The typed time is read in the zone and sent as the UTC instant.
        $this->assertSame(['a' => $address, 't' => Format::localToUtcIso($at, $zone)], $this->sentVariables('AddressOwner'));
        $this->assertSame((new DateTimeImmutable($at, new DateTimeZone($zone)))->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s.v\Z'),
            $this->sentVariables('AddressOwner')['t']);
        $this->assertCount(1, $this->calls('AddressOwner'), 'one operation');
    }

    public function test10AnAddressThatIsNotOursSaysSo(): void
    {
        $this->adminArea();
        $html = $this->lookup('203.0.113.99', (new DateTimeImmutable('-60 seconds', new DateTimeZone('UTC')))->format('Y-m-d\TH:i:s\Z'));
        $this->assertStringContainsString('class="mvpn-owner-answer mvpn-owner-none"', $html);
        $this->assertStringContainsString('<p class="mvpn-owner-reason">Not ours: the address is in none of the servers&#039; Assigned IP Addresses.</p>', $html);
        $this->assertStringNotContainsString('mvpn-owner-found', $html);
        $fr = $this->lookup('203.0.113.99', (new DateTimeImmutable('-60 seconds', new DateTimeZone('UTC')))->format('Y-m-d\TH:i:s\Z'), 'UTC', ['adminlang' => 'french']);
        $this->assertStringContainsString(htmlspecialchars(Lang::load('french')['owner_reason_not_ours'], ENT_QUOTES), $fr);
        // A reason the module has no words for is shown as the server wrote it.
        $this->assertSame('the moon was in the way', AddressLookup::reason('MOON', 'the moon was in the way', new Lang('german')));
    }

    public function test11BadInputShowsTheServersMessage(): void
    {
        $this->adminArea();
        $html = $this->lookup('not-an-ip', (new DateTimeImmutable('-60 seconds', new DateTimeZone('UTC')))->format('Y-m-d H:i:s'));
        $this->assertStringContainsString('<div class="mvpn-owner-answer mvpn-owner-error" role="alert">Address must be an IPv4 or IPv6 address.</div>', $html);
        $future = (new DateTimeImmutable('+1 day', new DateTimeZone('UTC')))->format('Y-m-d H:i:s');
        $html = $this->lookup('10.79.0.2', $future);
        $this->assertStringContainsString('mvpn-owner-error', $html);
        $this->assertStringContainsString('in the future', $html);
        $html = $this->lookup('10.79.0.2', '6 December, noon');
        $this->assertStringContainsString('<div class="mvpn-owner-answer mvpn-owner-error" role="alert">Enter the date and time as YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS.</div>', $html);
        $this->assertSame([], $this->calls('AddressOwner'), 'a time that is not one is not sent');
        // Everything typed comes back escaped.
        $html = $this->lookup('<script>alert(1)</script>', '"><img src=x>');
        $this->assertStringNotContainsString('<script>alert', $html);
        $this->assertStringNotContainsString('<img src=x>', $html);
        $this->assertStringContainsString('value="&lt;script&gt;alert(1)&lt;/script&gt;"', $html);
    }

    public function test12TheAddressPageIsAFormThatPostsToItselfThroughWhmcs(): void
    {
        $this->adminArea();
        $service = $this->service_();
        $_SESSION = [];
        $_POST = ['mvpn_address' => $this->field($service, 'dedicatedip'), 'mvpn_tz' => 'UTC'];
        try {
            $page = StandIn::output('AddressOwner', StandIn::params($service));
        } finally {
            $_POST = [];
        }
        $this->assertStringStartsWith('<!DOCTYPE html><html lang="english" dir="ltr">', $page);
        $this->assertStringContainsString('<title>Who had this address?</title>', $page);
        $this->assertStringContainsString('<form method="post" action="clientsservices.php?userid=' . self::$clientId . '&amp;id=' . $service . '" class="mvpn-owner-form">', $page);
        foreach (['modop' => 'custom', 'ac' => 'AddressOwner', 'mvpn_tz' => 'UTC', 'mvpn_lookup' => '1', 'token' => StandIn::CSRF_TOKEN] as $name => $value) {
            $this->assertStringContainsString('<input type="hidden" name="' . $name . '" value="' . $value . '">', $page);
        }
        $this->assertStringContainsString('name="mvpn_address" dir="ltr" required value="' . $this->field($service, 'dedicatedip') . '"', $page);
        $this->assertMatchesRegularExpression('/name="mvpn_at" dir="ltr" required placeholder="YYYY-MM-DD HH:MM:SS" value="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"/', $page, 'now, to start from');
        $this->assertStringNotContainsString('class="mvpn-owner-answer', $page, 'opened from the tab: no lookup yet');
        $this->assertStringContainsString('<div class="muted mvpn-owner-zone">Read in UTC, the time zone of the session lists.', $page);

        $he = $this->lookup('203.0.113.99', (new DateTimeImmutable('-60 seconds', new DateTimeZone('UTC')))->format('Y-m-d H:i:s'), 'UTC', ['adminlang' => 'hebrew']);
        $this->assertStringStartsWith('<!DOCTYPE html><html lang="hebrew" dir="rtl">', $he);
        $this->assertStringContainsString('<title>' . Lang::load('hebrew')['owner_title'] . '</title>', $he);
    }

    public function test13AfterTheClientHangsUpTheSessionEndsAndSaysWhy(): void
    {
        $this->adminArea();
        $service = $this->service_();
        $before = $this->sessions($service)[0];
        sleep(2); // the next reading is later than the last one that saw the session
        $this->sim('disconnect', ['name' => $this->field($service, 'username')]);
        $this->collectUntil(function () use ($service) {
            return !$this->sessions($service)[0]['open'];
        });
        $s = $this->sessions($service)[0];
        $this->assertSame($before['id'], $s['id']);
        $this->assertSame('disconnected', $s['endReason']);
        $this->assertFalse($s['endExact']);
        $zone = $this->zone($service);
        $end = Format::dateTimeIn($s['endedAt'], $zone);

        $rows = $this->clientRows($this->render($service));
        $this->assertSame($end . ' (disconnected)', $rows[0][6]);
        $rows = $this->clientRows($this->render($service, ['Language' => 'german']));
        $this->assertSame($end . ' (getrennt)', $rows[0][6]);

        // The admin tab shows both readings around an end the server did not see happen.
        $tab = $this->adminFields($service)['Recent connections'];
        $this->assertStringContainsString('between <bdi dir="ltr">' . Format::dateTimeIn($s['lastSeenAt'], $zone) . '</bdi> and <bdi dir="ltr">' . $end . '</bdi>', $tab);

        // Between those two readings the answer is not certain.
        $between = (new DateTimeImmutable($s['lastSeenAt']))->modify('+1 second')->format('Y-m-d\TH:i:s.v\Z');
        $this->assertLessThan(strtotime($s['endedAt']), strtotime($between));
        $html = $this->lookup($this->field($service, 'dedicatedip'), $between, $zone);
        $this->assertStringContainsString('mvpn-owner-found', $html);
        $this->assertStringContainsString('<p class="mvpn-owner-between">Between two readings: the session was last seen at <bdi dir="ltr">'
            . Format::dateTimeIn($s['lastSeenAt'], $zone) . '</bdi> and found gone at <bdi dir="ltr">' . $end . '</bdi>', $html);
        $this->assertStringContainsString(' &middot; disconnected</td>', $html);

        // The CSV says the same in its own terms.
        $csv = SessionExport::csv(StandIn::params($service));
        $line = explode("\r\n", $csv['body'])[1];
        $endedUtc = (new DateTimeImmutable($s['endedAt']))->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s.v\Z');
        $this->assertStringContainsString(',' . $endedUtc . ',false,disconnected,' . self::CALLER . ',', $line);
    }

    public function test14EndReasonsAreTranslatedAndUnknownOnesKept(): void
    {
        $en = new Lang('english');
        $ru = new Lang('russian');
        foreach (['disconnected', 'router restarted', 'limited', 'suspended', 'reset', 'terminated', 'moved to another server',
            'reconnected for a new package', 'duplicate session',
            // RouterOS's last-disconnect-reason, in the server's words.
            'disconnected by the client', 'connection lost', 'idle timeout', 'session time limit reached',
            'connection reset on the router', 'port error', 'router error', 'ended on the router'] as $reason) {
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
