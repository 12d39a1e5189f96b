<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * What the screens show of the session log (Query.sessions): the client area's recent connections
 * and the admin tab's list. The server decides everything (start, end, why, bytes, duration); this
 * only formats: times in the account's time zone, bytes by Format's GB/MB rules, end reasons in the
 * reader's language.
 */
class SessionView
{
    /** The VpnSession fields the screens read. */
    const FIELDS = 'id serviceId protocol service callerId address startedAt lastSeenAt endedAt endExact endReason downloadBytes uploadBytes durationSeconds open';

    /**
     * The server's end reason (English, stable: "disconnected", "router restarted", "moved to another
     * server", ...) in the reader's language by its key (session_end_disconnected,
     * session_end_router_restarted, ...); a reason without a key as the server wrote it.
     */
    public static function endReason(?string $reason, Lang $lang): string
    {
        $reason = trim((string) $reason);
        if ($reason === '') {
            return '';
        }
        $key = 'session_end_' . trim((string) preg_replace('/[^a-z0-9]+/', '_', strtolower($reason)), '_');
        $text = $lang->t($key);
        return $text === $key ? $reason : $text;
    }

    /**
     * Bytes as "1.50" GB or "12.35" MB (10^9 and 10^6 bytes): the number, and the unit in the reader's
     * language (screens isolate the number left to right and leave the unit to the text's direction).
     *
     * @return array{0:string,1:string}
     */
    public static function bytes($bytes, Lang $lang): array
    {
        list($number, $unit) = Format::size($bytes);
        return [$number, $lang->t('unit_' . $unit)];
    }

    /**
     * Sessions as the screens show them, newest first as the server lists them.
     *
     * @param array<int,array<string,mixed>> $nodes VpnSession nodes with FIELDS
     * @param string $zone the account's timeZone
     * @return array<int,array<string,mixed>>
     */
    public static function rows(array $nodes, string $zone, Lang $lang): array
    {
        $rows = [];
        foreach ($nodes as $s) {
            $open = !empty($s['open']);
            $endedAt = isset($s['endedAt']) ? (string) $s['endedAt'] : '';
            $lastSeenAt = isset($s['lastSeenAt']) ? (string) $s['lastSeenAt'] : '';
            // An end the server did not see happen lies between the last reading that saw the
            // session and the one that found it gone.
            $between = !$open && empty($s['endExact']) && $lastSeenAt !== '' && $lastSeenAt !== $endedAt;
            list($down, $downUnit) = self::bytes(isset($s['downloadBytes']) ? $s['downloadBytes'] : 0, $lang);
            list($up, $upUnit) = self::bytes(isset($s['uploadBytes']) ? $s['uploadBytes'] : 0, $lang);
            $rows[] = [
                'id' => (string) (isset($s['id']) ? $s['id'] : ''),
                'start' => Format::dateTimeIn(isset($s['startedAt']) ? (string) $s['startedAt'] : '', $zone),
                'duration' => Format::uptime(isset($s['durationSeconds']) ? $s['durationSeconds'] : 0),
                'service' => strtoupper((string) (isset($s['service']) ? $s['service'] : '')),
                'callerId' => (string) (isset($s['callerId']) ? $s['callerId'] : ''),
                'address' => (string) (isset($s['address']) ? $s['address'] : ''),
                'download' => $down,
                'downloadUnit' => $downUnit,
                'upload' => $up,
                'uploadUnit' => $upUnit,
                'open' => $open,
                'end' => $open ? '' : Format::dateTimeIn($endedAt, $zone),
                'lastSeen' => $between ? Format::dateTimeIn($lastSeenAt, $zone) : '',
                'endReason' => $open ? '' : self::endReason(isset($s['endReason']) ? (string) $s['endReason'] : '', $lang),
            ];
        }
        return $rows;
    }

    /** "between <from> and <to>" in the reader's language, each time isolated left to right. */
    public static function betweenHtml(string $from, string $to, Lang $lang): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        return strtr($e($lang->t('sessions_end_between')), [
            '{from}' => '<bdi dir="ltr">' . $e($from) . '</bdi>',
            '{to}' => '<bdi dir="ltr">' . $e($to) . '</bdi>',
        ]);
    }

    /** "Times in Europe/Berlin." under a list, so nobody reads them as their own browser's time. */
    public static function zoneNote(string $zone, Lang $lang): string
    {
        return $lang->t('sessions_times_in', ['zone' => Format::zone($zone)->getName()]);
    }

    /**
     * The admin tab's list: one row per session, with the protocol and, for an end the server did not
     * see happen, both readings around it.
     *
     * @param array<int,array<string,mixed>> $rows from rows()
     */
    public static function adminTableHtml(array $rows, string $zone, Lang $lang): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        if (!$rows) {
            return '<span class="mvpn-sessions-none">' . $e($lang->t('sessions_none')) . '</span>';
        }
        $html = '<table class="table table-condensed table-sm table-striped mvpn-sessions" style="margin:0"><thead><tr>';
        foreach (['sessions_start', 'sessions_duration', 'conn_service', 'conn_caller', 'address', 'usage_download', 'usage_upload', 'sessions_end'] as $key) {
            $html .= '<th>' . $e($lang->t($key)) . '</th>';
        }
        $html .= '</tr></thead><tbody>';
        foreach ($rows as $r) {
            if ($r['open']) {
                $end = '<span class="label label-success badge badge-success">' . $e($lang->t('sessions_open')) . '</span>';
            } else {
                $end = $r['lastSeen'] !== '' ? self::betweenHtml($r['lastSeen'], $r['end'], $lang)
                    : '<bdi dir="ltr">' . $e($r['end']) . '</bdi>';
                if ($r['endReason'] !== '') {
                    $end .= ' &middot; <span class="mvpn-session-reason">' . $e($r['endReason']) . '</span>';
                }
            }
            $html .= '<tr class="mvpn-session" data-session-id="' . $e($r['id']) . '">'
                . '<td><bdi dir="ltr">' . $e($r['start']) . '</bdi></td>'
                . '<td><bdi dir="ltr">' . $e($r['duration']) . '</bdi></td>'
                . '<td>' . $e($r['service']) . '</td>'
                . '<td><code class="mvpn-session-caller">' . $e($r['callerId']) . '</code></td>'
                . '<td><code class="mvpn-session-address">' . $e($r['address']) . '</code></td>'
                . '<td><bdi dir="ltr">' . $e($r['download']) . '</bdi> ' . $e($r['downloadUnit']) . '</td>'
                . '<td><bdi dir="ltr">' . $e($r['upload']) . '</bdi> ' . $e($r['uploadUnit']) . '</td>'
                . '<td class="mvpn-session-end">' . $end . '</td></tr>';
        }
        return $html . '</tbody></table><p class="small text-muted" style="margin:4px 0 0">' . $e(self::zoneNote($zone, $lang)) . '</p>';
    }
}
