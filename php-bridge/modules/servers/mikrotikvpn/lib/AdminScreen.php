<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * The admin service page: status, connection, traffic, the traffic-added history, the session log
 * (with its CSV and the "Who had this address?" page) and the usage page.
 */
class AdminScreen
{
    /** How many sessions the admin tab lists (the CSV has them all). */
    const ADMIN_SESSIONS = 50;

    public static function adminServicesTabFields(array $params): array
    {
        $lang = Lang::forAdmin();
        if (Module::addonId($params) > 0) {
            return [];
        }
        $client = new GraphQLClient(null, $lang);
        $serviceId = (int) $params['serviceid'];
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $ok = '<span class="label label-success badge badge-success">';
        $bad = '<span class="label label-danger badge badge-danger">';
        $warn = '<span class="label label-warning badge badge-warning">';
        try {
            $data = $client->call('AdminServicesTabFields',
                'query($s: Int!) { vpnAccount(serviceId: $s) { ' . Module::ACCOUNT_FIELDS . ' ' . Module::CONNECTION_FIELDS
                . ' ' . Module::WIREGUARD_FIELDS . ' ' . Module::THRESHOLD_FIELDS . ' timeZone } }',
                ['s' => $serviceId]);
        } catch (BridgeException $ex) {
            return [$lang->t('admin_api') => $bad . $e($lang->t('admin_api_failed')) . '</span> ' . $e($ex->getMessage())];
        }
        $fields = [$lang->t('admin_api') => $ok . '&#10003;</span> ' . $e($lang->t('admin_api_ok'))];
        $account = $data['vpnAccount'];
        if (!$account) {
            $fields[$lang->t('admin_vpn_user')] = $warn . $e($lang->t('admin_no_account')) . '</span>';
            return $fields;
        }
        $status = (string) $account['status'];
        $badge = $status === 'ACTIVE' ? $ok : ($status === 'PENDING' || $status === 'THROTTLED' ? $warn : $bad);
        $protocol = isset($account['protocol']) && $account['protocol'] === 'WIREGUARD' ? 'WireGuard' : 'PPP';
        $fields[$lang->t('admin_vpn_user')] = '<code>' . $e($account['username']) . '</code> ' . $badge
            . $e($lang->t('status_' . $status)) . '</span>'
            . ($account['statusReason'] ? ' ' . $e($account['statusReason']) : '')
            . ' &middot; ' . $e($lang->t('address')) . ': <code>' . $e($account['address']) . '</code>'
            . ' &middot; ' . $e($lang->t('router')) . ': ' . $e($account['router']['name'] . ' (' . $account['router']['host'] . ')')
            . ' &middot; ' . $e($lang->t('conn_service')) . ': ' . $e($protocol);
        if (!empty($account['routerProblem'])) {
            // Enforcement never waits for it; the admin should still know (e.g. a missing profile).
            $fields[$lang->t('admin_router_problem')] = $warn . '!</span> ' . $e($account['routerProblem']);
        }
        $peer = isset($account['protocol']) && $account['protocol'] === 'WIREGUARD' && !empty($account['wireguard'])
            ? $account['wireguard'] : null;
        $conn = isset($account['connection']) ? $account['connection'] : null;
        if ($peer) {
            // The peer's public side only: the private key and the config are the customer's.
            $fields[$lang->t('wg_title')] = $e($lang->t('wg_public_key')) . ': <code class="mvpn-wg-public-key">' . $e($peer['publicKey']) . '</code>'
                . ' &middot; ' . $e($lang->t('wg_interface')) . ': <code>' . $e($peer['interface']) . '</code>'
                . ' &middot; ' . $e($lang->t('wg_endpoint')) . ': <code>' . $e($peer['endpoint']) . '</code>';
            $fields[$lang->t('connection')] = WireGuardView::peerStateHtml($peer, $lang);
        } elseif ($conn && !empty($conn['online'])) {
            $fields[$lang->t('connection')] = $ok . $e($lang->t('online')) . '</span> '
                . $e($lang->t('conn_service')) . ': ' . $e($conn['service']) . ' &middot; '
                . $e($lang->t('conn_caller')) . ': ' . $e($conn['callerId']) . ' &middot; '
                . $e($lang->t('address')) . ': ' . $e($conn['address']) . ' &middot; '
                . $e($lang->t('conn_uptime')) . ': ' . $e(Format::uptime($conn['uptimeSeconds']));
        } else {
            $fields[$lang->t('connection')] = $bad . $e($lang->t('offline')) . '</span>';
        }
        $fields[$lang->t('traffic')] = self::trafficSummaryHtml($account, $lang);
        if (!empty($account['thresholdsReached'])) {
            $fields[$lang->t('thresholds_reached')] = $warn . count($account['thresholdsReached']) . '</span> '
                . self::thresholdsHtml($account['thresholdsReached'], (string) $account['timeZone']);
        }
        // The logs, in one operation: the traffic-added history and the newest sessions (two root fields).
        try {
            $data = $client->call('AdminServicesTabFields',
                'query($s: Int!) { vpnAccount(serviceId: $s) { timeZone duplicateSessionsEnded topUps(first: 20) { nodes { id at day kind reason cycle period bytes balanceBeforeBytes balanceAfterBytes invoiceId description } pageInfo { hasNextPage endCursor } } }'
                . ' sessions(serviceId: $s, first: ' . self::ADMIN_SESSIONS . ') { nodes { ' . SessionView::FIELDS . ' } pageInfo { hasNextPage } } }',
                ['s' => $serviceId]);
            $fields[$lang->t('history_title')] = self::historyHtml($data['vpnAccount']['topUps']['nodes'], $lang);
            $zone = (string) $data['vpnAccount']['timeZone'];
            $fields[$lang->t('sessions_title')] = self::sessionsHtml($data['sessions'], $params, (string) $account['address'], $zone, $lang);
            $duplicates = Format::int($data['vpnAccount']['duplicateSessionsEnded']);
            if ($duplicates > 0) {
                $fields[$lang->t('sessions_duplicates')] = $warn . $duplicates . '</span> '
                    . $e($lang->t('sessions_duplicates_text'));
            }
        } catch (BridgeException $ex) {
            $fields[$lang->t('history_title')] = $e($ex->getMessage());
            $fields[$lang->t('sessions_title')] = $e($ex->getMessage());
        }
        // The client-area usage page, the same component, with a token for this service's client.
        $usage = ClientScreen::usageMount($params, $lang, '../');
        if ($usage) {
            $fields[$lang->t('usage_title')] = ClientScreen::usageMountHtml($serviceId, $usage, $lang, 'admin');
        }
        // Direct mode: the customers' browsers call browser_graphql_url; say so when they can not.
        $config = Config::get();
        $problem = ClientScreen::directUrlProblem($config);
        if ($problem !== '') {
            $fields[$lang->t('direct_mode_label')] = $warn . '!</span> '
                . $e($lang->t($problem, ['url' => (string) $config['browser_graphql_url']]));
        }
        return $fields;
    }

    /**
     * The session list, then a CSV of all the service's sessions and the "Who had this address?" page.
     * Both are module functions WHMCS runs at clientsservices.php?modop=custom&ac=<function> (with its
     * CSRF token); they are links, not buttons, because WHMCS runs module buttons through AJAX and
     * puts their answer into the page, where neither a download nor a page of its own fits.
     *
     * @param array<string,mixed> $sessions a VpnSessionConnection (nodes, pageInfo)
     */
    private static function sessionsHtml(array $sessions, array $params, string $address, string $zone, Lang $lang): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $nodes = isset($sessions['nodes']) && is_array($sessions['nodes']) ? $sessions['nodes'] : [];
        $html = SessionView::adminTableHtml(SessionView::rows($nodes, $zone, $lang), $zone, $lang);
        if (!empty($sessions['pageInfo']['hasNextPage'])) {
            $html .= '<p class="small text-muted mvpn-sessions-more" style="margin:4px 0 0">'
                . $e($lang->t('sessions_more', ['count' => self::ADMIN_SESSIONS])) . '</p>';
        }
        $html .= '<p style="margin:6px 0 0">';
        if ($nodes) {
            $html .= '<a class="btn btn-default btn-sm mvpn-sessions-csv" href="' . $e(self::commandUrl($params, 'SessionsCsv')) . '">'
                . $e($lang->t('sessions_csv')) . '</a> ';
        }
        $html .= '<a class="btn btn-default btn-sm mvpn-owner-link" target="_blank" rel="noopener" href="'
            . $e(self::commandUrl($params, 'AddressOwner', ['mvpn_address' => $address, 'mvpn_tz' => $zone])) . '">'
            . $e($lang->t('owner_title')) . '</a></p>';
        return $html;
    }

    /**
     * clientsservices.php?userid=..&id=..&modop=custom&ac=<function>&token=..: how WHMCS's admin area
     * runs one of this module's functions for a service (the token is WHMCS's CSRF token).
     *
     * @param array<string,string> $extra more query parameters
     */
    public static function commandUrl(array $params, string $function, array $extra = []): string
    {
        $query = [
            'userid' => (int) (isset($params['userid']) ? $params['userid'] : 0),
            'id' => (int) $params['serviceid'],
            'modop' => 'custom',
            'ac' => $function,
        ];
        $token = Whmcs::csrfToken();
        if ($token !== '') {
            $query['token'] = $token;
        }
        return 'clientsservices.php?' . http_build_query($query + $extra, '', '&', PHP_QUERY_RFC3986);
    }

    /**
     * The "Download CSV" link: every session of the service as a CSV file. Only in WHMCS's admin area
     * (WHMCS lets clients run only the functions the module lists for them; this checks again).
     * Answers the download and ends the request; returns WHMCS's error sentence when it can not.
     */
    public static function sessionsCsv(array $params): string
    {
        $csv = null;
        $result = Module::guard(function () use ($params, &$csv) {
            if (!Whmcs::inAdminArea()) {
                return Lang::forAdmin()->t('err_admin_only');
            }
            $csv = SessionExport::csv($params);
            return 'success';
        });
        if ($csv === null) {
            return $result;
        }
        Module::respond($csv['headers'], $csv['body']);
        return 'success';
    }

    private static function trafficSummaryHtml(array $account, Lang $lang): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $t = $account['traffic'];
        $bw = $account['bandwidth'] ?: ['downloadBitsPerSecond' => 0, 'uploadBitsPerSecond' => 0];
        $speed = function ($bits) use ($lang) {
            $mbps = Format::mbps($bits);
            return $mbps === null ? $lang->t('no_limit') : $mbps . ' ' . $lang->t('unit_mbps');
        };
        $cells = [
            $lang->t('traffic_balance') => Format::gb($t['balanceBytes']) . ' ' . $lang->t('unit_gb'),
            $lang->t('bandwidth_download') => $speed($bw['downloadBitsPerSecond']),
            $lang->t('bandwidth_upload') => $speed($bw['uploadBitsPerSecond']),
            $lang->t('cycle_allowance') => !empty($t['unlimited']) ? $lang->t('unlimited')
                : Format::gb($t['cycleAllowanceBytes']) . ' ' . $lang->t('unit_gb'),
        ];
        $html = '<table class="table table-condensed table-sm" style="width:auto;margin:0"><tr>';
        foreach ($cells as $label => $value) {
            $html .= '<th>' . $e($label) . '</th>';
        }
        $html .= '</tr><tr>';
        foreach ($cells as $value) {
            $html .= '<td>' . $e($value) . '</td>';
        }
        $html .= '</tr></table>';
        $carried = Format::carriedOver($t, isset($account['timeZone']) ? (string) $account['timeZone'] : '', $lang);
        if ($carried !== '') {
            $html .= '<div class="mvpn-carried-over small">' . $e($carried) . '</div>';
        }
        return $html;
    }

    /**
     * The notification thresholds reached this cycle: each as the product writes it, when (the
     * account's time zone) and, when a top-up re-armed it, how often.
     *
     * @param array<int,array<string,mixed>> $reached
     */
    public static function thresholdsHtml(array $reached, string $zone): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $parts = [];
        foreach ($reached as $r) {
            $times = Format::int($r['times']);
            $parts[] = '<span class="mvpn-threshold"><bdi dir="ltr">' . $e($r['threshold']) . '</bdi>'
                . ' (<bdi dir="ltr">' . $e(Format::dateTimeIn((string) $r['reachedAt'], $zone)) . '</bdi>'
                . ($times > 1 ? ', <bdi dir="ltr">&times;' . $times . '</bdi>' : '') . ')</span>';
        }
        return implode(' &middot; ', $parts);
    }

    /** @param array<int,array<string,mixed>> $topUps */
    public static function historyHtml(array $topUps, Lang $lang): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        if (!$topUps) {
            return $e($lang->t('history_none'));
        }
        $html = '<table class="table table-condensed table-sm table-striped" style="margin:0"><thead><tr>';
        foreach (['usage_date', 'usage_added', 'usage_before', 'usage_after', 'usage_description', 'usage_invoice'] as $key) {
            $html .= '<th>' . $e($lang->t($key)) . '</th>';
        }
        $html .= '</tr></thead><tbody>';
        $unit = ' ' . $e($lang->t('unit_gb'));
        foreach ($topUps as $t) {
            $invoice = $t['invoiceId'] ? '<a href="invoices.php?action=edit&amp;id=' . (int) $t['invoiceId'] . '">'
                . $e($lang->t('invoice_number', ['number' => (int) $t['invoiceId']])) . '</a>' : '';
            // The day in WHMCS's time zone, as the server counts it (not this PHP's zone).
            $day = isset($t['day']) && $t['day'] !== '' ? (string) $t['day'] : Format::date($t['at']);
            $html .= '<tr><td>' . $e($day) . '</td>'
                . '<td><bdi dir="ltr">' . $e(Format::signedGb($t['bytes'])) . '</bdi>' . $unit . '</td>'
                . '<td><bdi dir="ltr">' . $e(Format::gb($t['balanceBeforeBytes'])) . '</bdi>' . $unit . '</td>'
                . '<td><bdi dir="ltr">' . $e(Format::gb($t['balanceAfterBytes'])) . '</bdi>' . $unit . '</td>'
                . '<td>' . $e(self::topUpText($t, $lang)) . '</td>'
                . '<td>' . $invoice . '</td></tr>';
        }
        return $html . '</tbody></table>';
    }

    /**
     * What a history line is, in the reader's language: the server words its own lines by reason
     * (and billing cycle, or for rollover lines the cycle the traffic came from) and leaves their description empty; addons, adjustments and lines from
     * before reasons existed go by their kind.
     *
     * @param array<string,mixed> $t a TrafficTopUp
     */
    public static function topUpLabel(array $t, Lang $lang): string
    {
        $reason = isset($t['reason']) ? (string) $t['reason'] : '';
        $cycle = isset($t['cycle']) ? (string) $t['cycle'] : '';
        if ($reason === 'MOVED') {
            return $lang->t('topup_MOVED');
        }
        if (in_array($reason, ['FIRST_CYCLE', 'RENEWAL', 'PACKAGE_CHANGE'], true) && $cycle !== '') {
            return $lang->t('topup_' . $reason, ['cycle' => self::cycleName($cycle, $lang)]);
        }
        // Rollover lines name the cycle the traffic came from: its first day and the day it ended.
        $period = isset($t['period']) ? Format::period((string) $t['period']) : '';
        if (in_array($reason, ['CYCLE_UNUSED', 'CARRIED_OVER', 'CARRY_EXPIRED'], true) && $period !== '') {
            return $lang->t('topup_' . $reason, ['period' => $period]);
        }
        return $lang->t('kind_' . (string) $t['kind']);
    }

    /** A billing cycle as WHMCS names it ("Semi-Annually") in the reader's language; unknown ones as they are. */
    public static function cycleName(string $cycle, Lang $lang): string
    {
        $key = 'cycle_name_' . preg_replace('/[^a-z]/', '', strtolower($cycle));
        $name = $lang->t($key);
        return $name === $key ? $cycle : $name;
    }

    /**
     * The label, then what a person or WHMCS named (an addon's name, an adjustment's reason), unless
     * it only repeats the label or the kind ("Additional traffic · Additional traffic").
     *
     * @param array<string,mixed> $t a TrafficTopUp
     */
    public static function topUpText(array $t, Lang $lang): string
    {
        $label = self::topUpLabel($t, $lang);
        $description = trim((string) (isset($t['description']) ? $t['description'] : ''));
        $fold = function ($s) {
            $s = trim((string) $s);
            return function_exists('mb_strtolower') ? mb_strtolower($s, 'UTF-8') : strtolower($s);
        };
        if ($description === '' || in_array($fold($description), [$fold($label), $fold($lang->t('kind_' . (string) $t['kind']))], true)) {
            return $label;
        }
        return $label . ' · ' . $description;
    }
}
