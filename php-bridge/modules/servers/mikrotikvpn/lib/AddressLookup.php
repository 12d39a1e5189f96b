<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * "Who had this address?": a small admin page (linked from every service's admin tab) that asks the
 * server's session log which account held an IP address at a moment (Query.addressOwner), for abuse
 * reports and the like. It is a module function WHMCS runs at clientsservices.php?modop=custom&
 * ac=AddressOwner (admin login and CSRF token are WHMCS's); the page posts back to itself.
 *
 * The time is read in the WHMCS time zone the server counts in (the account's timeZone, which the tab
 * passes along; PHP's own zone when none is given), the one the session lists show; a time written
 * with Z or an offset ("2026-12-06T09:05:30Z", as abuse reports often give it) is taken as written.
 * The server gets the instant in UTC ISO-8601 and decides the rest: a bad address or a time in the
 * future comes back as its message.
 */
class AddressLookup
{
    const QUERY = 'query($a: String!, $t: DateTime!) { addressOwner(address: $a, at: $t) { address at ours certain reason reasonCode
        session { ' . SessionView::FIELDS . ' } account { serviceId clientId username } } }';

    /** The server's reason codes for "no session" and their keys. */
    const REASONS = [
        'NOT_OURS' => 'owner_reason_not_ours',
        'BEFORE_RETENTION' => 'owner_reason_before_oldest',
        'NO_SESSION' => 'owner_reason_none',
    ];

    /** The module function: answers with the page and ends the request; WHMCS's error sentence when it can not. */
    public static function run(array $params): string
    {
        $page = null;
        $result = Module::guard(function () use ($params, &$page) {
            if (!Whmcs::inAdminArea()) {
                return Lang::forAdmin()->t('err_admin_only');
            }
            $page = self::page($params, $_POST + $_GET);
            return 'success';
        });
        if ($page === null) {
            return $result;
        }
        Module::respond([
            'Content-Type: text/html; charset=utf-8',
            'Cache-Control: no-store',
            'X-Content-Type-Options: nosniff',
            'X-Frame-Options: SAMEORIGIN',
            'Referrer-Policy: same-origin',
        ], $page);
        return 'success';
    }

    /**
     * The page: the form, and the answer once the form was sent (one addressOwner call).
     *
     * @param array<string,mixed> $request the form's fields (mvpn_address, mvpn_at, mvpn_tz, mvpn_lookup)
     */
    public static function page(array $params, array $request): string
    {
        $lang = Lang::forAdmin();
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $field = function ($name) use ($request) {
            return isset($request[$name]) && is_scalar($request[$name]) ? trim((string) $request[$name]) : '';
        };
        $zone = Format::zone($field('mvpn_tz'))->getName();
        $address = $field('mvpn_address');
        $at = $field('mvpn_at');
        $answer = '';
        if ($field('mvpn_lookup') !== '' && $address !== '') {
            $answer = self::answerHtml($address, $at, $zone, $lang);
        }
        if ($at === '') {
            $at = (new \DateTimeImmutable('now', Format::zone($zone)))->format('Y-m-d H:i:s');
        }
        $serviceUrl = 'clientsservices.php?' . http_build_query([
            'userid' => (int) (isset($params['userid']) ? $params['userid'] : 0),
            'id' => (int) $params['serviceid'],
        ], '', '&', PHP_QUERY_RFC3986);
        $hidden = ['modop' => 'custom', 'ac' => 'AddressOwner', 'mvpn_tz' => $zone, 'mvpn_lookup' => '1'];
        $token = Whmcs::csrfToken();
        if ($token !== '') {
            $hidden['token'] = $token;
        }
        $html = '<!DOCTYPE html><html lang="' . $e($lang->language()) . '" dir="' . $e($lang->dirAttr()) . '"><head>'
            . '<meta charset="utf-8"><meta name="robots" content="noindex"><title>' . $e($lang->t('owner_title')) . '</title>'
            . '<style>body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:24px;color:#222}'
            . '.mvpn-owner{max-width:760px}label{display:block;margin:10px 0 4px;font-weight:600}'
            . 'input[type=text]{width:100%;max-width:360px;padding:6px;box-sizing:border-box}button{margin-top:12px;padding:6px 16px}'
            . '.mvpn-owner-answer{margin-top:20px;padding:12px;border:1px solid #ccc;border-radius:4px}'
            . '.mvpn-owner-error{border-color:#d9534f;background:#fdf2f2}.mvpn-owner-none{border-color:#f0ad4e;background:#fdf8ee}'
            . 'th,td{text-align:start;padding:3px 12px 3px 0;vertical-align:top}code{font-size:95%}.muted{color:#666;font-size:90%}</style>'
            . '</head><body><div class="mvpn-owner"><h1>' . $e($lang->t('owner_title')) . '</h1>'
            . '<form method="post" action="' . $e($serviceUrl) . '" class="mvpn-owner-form">';
        foreach ($hidden as $name => $value) {
            $html .= '<input type="hidden" name="' . $e($name) . '" value="' . $e($value) . '">';
        }
        $html .= '<label for="mvpn-owner-address">' . $e($lang->t('owner_address')) . '</label>'
            . '<input type="text" id="mvpn-owner-address" name="mvpn_address" dir="ltr" required value="' . $e($address) . '">'
            . '<label for="mvpn-owner-at">' . $e($lang->t('owner_at')) . '</label>'
            . '<input type="text" id="mvpn-owner-at" name="mvpn_at" dir="ltr" required placeholder="YYYY-MM-DD HH:MM:SS" value="' . $e($at) . '">'
            . '<div class="muted mvpn-owner-zone">' . $e($lang->t('owner_at_help', ['zone' => $zone])) . '</div>'
            . '<button type="submit">' . $e($lang->t('owner_submit')) . '</button></form>'
            . $answer
            . '<p><a href="' . $e($serviceUrl) . '">' . $e($lang->t('owner_back')) . '</a></p></div></body></html>';
        return $html;
    }

    /** The answer for an address at a time the admin typed, or why there is none, or the server's message. */
    public static function answerHtml(string $address, string $at, string $zone, Lang $lang): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $instant = Format::localToUtcIso($at, $zone);
        if ($instant === null) {
            return '<div class="mvpn-owner-answer mvpn-owner-error" role="alert">' . $e($lang->t('owner_bad_time')) . '</div>';
        }
        try {
            $client = new GraphQLClient(null, $lang);
            $data = $client->call('AddressOwner', self::QUERY, ['a' => $address, 't' => $instant]);
        } catch (BridgeException $ex) {
            return '<div class="mvpn-owner-answer mvpn-owner-error" role="alert">' . $e($ex->getMessage()) . '</div>';
        }
        $owner = $data['addressOwner'];
        $heading = '<h2><bdi dir="ltr">' . $e($owner['address']) . '</bdi> &middot; <bdi dir="ltr">'
            . $e(Format::dateTimeIn((string) $owner['at'], $zone)) . '</bdi></h2>';
        $session = isset($owner['session']) && is_array($owner['session']) ? $owner['session'] : null;
        if (!$session) {
            return '<div class="mvpn-owner-answer mvpn-owner-none">' . $heading
                . '<p class="mvpn-owner-reason">' . $e(self::reason(isset($owner['reasonCode']) ? (string) $owner['reasonCode'] : '', isset($owner['reason']) ? (string) $owner['reason'] : '', $lang)) . '</p></div>';
        }
        $account = isset($owner['account']) && is_array($owner['account']) ? $owner['account'] : null;
        $serviceId = (int) ($account ? $account['serviceId'] : $session['serviceId']);
        $clientId = $account ? (int) $account['clientId'] : 0;
        $rows = SessionView::rows([$session], $zone, $lang);
        $r = $rows[0];
        $serviceLink = '<a class="mvpn-owner-service" href="' . $e('clientsservices.php?' . http_build_query(
            $clientId > 0 ? ['userid' => $clientId, 'id' => $serviceId] : ['id' => $serviceId], '', '&', PHP_QUERY_RFC3986)) . '">#' . $serviceId . '</a>';
        $html = '<div class="mvpn-owner-answer mvpn-owner-found">' . $heading . '<table><tbody>'
            . '<tr><th>' . $e($lang->t('owner_service')) . '</th><td>' . $serviceLink
            . ($account ? ' &middot; <code class="mvpn-owner-username">' . $e($account['username']) . '</code>' : '') . '</td></tr>';
        if ($clientId > 0) {
            $row = Whmcs::client($clientId);
            $name = $row ? trim(trim((string) $row->firstname . ' ' . (string) $row->lastname) . ((string) $row->companyname !== '' ? ' (' . $row->companyname . ')' : '')) : '';
            $html .= '<tr><th>' . $e($lang->t('owner_client')) . '</th><td><a class="mvpn-owner-client" href="clientssummary.php?userid=' . $clientId . '">'
                . $e($name !== '' ? $name . ' ' : '') . '#' . $clientId . '</a></td></tr>';
        }
        $end = $r['open'] ? $e($lang->t('sessions_open'))
            : ($r['lastSeen'] !== '' ? SessionView::betweenHtml($r['lastSeen'], $r['end'], $lang) : '<bdi dir="ltr">' . $e($r['end']) . '</bdi>')
                . ($r['endReason'] !== '' ? ' &middot; ' . $e($r['endReason']) : '');
        $html .= '<tr><th>' . $e($lang->t('conn_caller')) . '</th><td><code class="mvpn-owner-caller">' . $e($r['callerId']) . '</code>'
            . ($r['service'] !== '' ? ' &middot; ' . $e($r['service']) : '') . '</td></tr>'
            . '<tr><th>' . $e($lang->t('sessions_start')) . '</th><td class="mvpn-owner-start"><bdi dir="ltr">' . $e($r['start']) . '</bdi></td></tr>'
            . '<tr><th>' . $e($lang->t('sessions_end')) . '</th><td class="mvpn-owner-end">' . $end . '</td></tr>'
            . '</tbody></table>';
        if (!empty($owner['certain'])) {
            $html .= '<p class="mvpn-owner-certain">' . $e($lang->t('owner_certain')) . '</p>';
        } else {
            $lastSeen = Format::dateTimeIn(isset($session['lastSeenAt']) ? (string) $session['lastSeenAt'] : '', $zone);
            $html .= '<p class="mvpn-owner-between">' . strtr($e($lang->t('owner_between')), [
                '{from}' => '<bdi dir="ltr">' . $e($lastSeen) . '</bdi>',
                '{to}' => '<bdi dir="ltr">' . $e($r['end']) . '</bdi>',
            ]) . '</p>';
        }
        return $html . '</div>';
    }

    /** The server's reason for no session, in the reader's language (by its code); an unknown one as the server wrote it. */
    public static function reason(string $code, string $reason, Lang $lang): string
    {
        if (isset(self::REASONS[$code])) {
            return $lang->t(self::REASONS[$code]);
        }
        $reason = trim($reason);
        return $reason !== '' ? $reason : $lang->t('owner_reason_none');
    }
}
