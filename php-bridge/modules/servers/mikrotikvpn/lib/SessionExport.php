<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * Every session of a service as a CSV file (the admin tab's "Download CSV"): one row per session,
 * newest first as the server lists them, times in UTC ISO-8601, bytes exact, the end reason as the
 * server writes it (stable English, for spreadsheets and scripts).
 */
class SessionExport
{
    const COLUMNS = ['started_at', 'ended_at', 'end_exact', 'end_reason', 'caller_id', 'address', 'download_bytes', 'upload_bytes'];

    /** Sessions per request (the server's largest page). */
    const PAGE_SIZE = 100;

    const QUERY = 'query($s: Int!, $n: Int!, $a: String) { sessions(serviceId: $s, first: $n, after: $a) {
        nodes { startedAt endedAt endExact endReason callerId address downloadBytes uploadBytes }
        pageInfo { hasNextPage endCursor } } }';

    /**
     * The file, its name and the headers of its download. Throws BridgeException as the calls do.
     *
     * The one module function that makes several calls, all of the same operation: a service can have
     * more sessions than a page holds, so the export pages through them with the server's cursors
     * (after = the previous page's endCursor) until the server says there is no next page.
     *
     * @return array{fileName:string,headers:string[],body:string,rows:int}
     */
    public static function csv(array $params): array
    {
        $serviceId = (int) $params['serviceid'];
        $client = new GraphQLClient(null, Lang::forAdmin());
        $lines = [self::line(self::COLUMNS)];
        $after = null;
        $seen = [];
        do {
            $data = $client->call('SessionsCsv', self::QUERY, ['s' => $serviceId, 'n' => self::PAGE_SIZE, 'a' => $after]);
            foreach ($data['sessions']['nodes'] as $s) {
                $lines[] = self::line([
                    self::utc($s['startedAt']),
                    self::utc($s['endedAt']),
                    !empty($s['endExact']) ? 'true' : 'false',
                    self::text($s['endReason']),
                    self::text($s['callerId']),
                    self::text($s['address']),
                    (string) Format::int($s['downloadBytes']),
                    (string) Format::int($s['uploadBytes']),
                ]);
            }
            $info = $data['sessions']['pageInfo'];
            $cursor = isset($info['endCursor']) ? (string) $info['endCursor'] : '';
            // A cursor seen before would page forever: the export stops there.
            $more = !empty($info['hasNextPage']) && $cursor !== '' && !isset($seen[$cursor]);
            $seen[$cursor] = true;
            $after = $cursor;
        } while ($more);
        $fileName = 'sessions-service-' . $serviceId . '-' . gmdate('Ymd-His') . '.csv';
        return [
            'fileName' => $fileName,
            'headers' => [
                'Content-Type: text/csv; charset=utf-8',
                'Content-Disposition: attachment; filename="' . $fileName . '"',
                'Cache-Control: no-store',
                'X-Content-Type-Options: nosniff',
            ],
            'body' => implode("\r\n", $lines) . "\r\n",
            'rows' => count($lines) - 1,
        ];
    }

    /** An instant from the server in UTC ISO-8601 with milliseconds ("2026-12-06T09:05:30.123Z"); '' for none. */
    private static function utc($iso): string
    {
        if ($iso === null || $iso === '') {
            return '';
        }
        try {
            return (new \DateTimeImmutable((string) $iso))->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d\TH:i:s.v\Z');
        } catch (\Exception $e) {
            return (string) $iso;
        }
    }

    /**
     * A text cell. One that starts like a formula (=, +, -, @, a tab or a carriage return) gets a
     * leading apostrophe, so that a spreadsheet shows it instead of running it: a caller id is
     * whatever the VPN client sent.
     */
    private static function text($value): string
    {
        $value = (string) $value;
        return $value !== '' && strpos("=+-@\t\r", $value[0]) !== false ? "'" . $value : $value;
    }

    /** @param string[] $cells one RFC 4180 line: cells with a comma, quote or line break quoted */
    private static function line(array $cells): string
    {
        return implode(',', array_map(function ($cell) {
            $cell = (string) $cell;
            return preg_match('/[",\r\n]/', $cell) ? '"' . str_replace('"', '""', $cell) . '"' : $cell;
        }, $cells));
    }
}
