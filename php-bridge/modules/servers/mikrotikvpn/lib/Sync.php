<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * WHMCS's daily usage update (bwusage/bwlimit) and the Server Sync tool's account list.
 */
class Sync
{
    /** Daily cron, once per server: WHMCS's own bandwidth columns (MB = 10^6 bytes). */
    public static function usageUpdate(array $params): string
    {
        return Module::guard(function () use ($params) {
            $serverId = (int) $params['serverid'];
            $client = new GraphQLClient(null, Lang::forAdmin());
            $after = null;
            $now = date('Y-m-d H:i:s');
            do {
                $data = $client->call('UsageUpdate',
                    'query($s: Int!, $after: String) { routerForServer(serverId: $s) { id accounts(first: 100, after: $after) { nodes { serviceId status traffic { usedThisCycleBytes cycleAllowanceBytes unlimited } } pageInfo { hasNextPage endCursor } } } }',
                    array_filter(['s' => $serverId, 'after' => $after], function ($v) {
                        return $v !== null; // an explicit null cursor is refused by the server
                    }));
                $router = $data['routerForServer'];
                if (!$router) {
                    return 'success';
                }
                foreach ($router['accounts']['nodes'] as $account) {
                    if ($account['status'] === 'TERMINATED') {
                        continue;
                    }
                    $t = $account['traffic'];
                    \WHMCS\Database\Capsule::table('tblhosting')
                        ->where('id', (int) $account['serviceId'])
                        ->where('server', $serverId)
                        ->update([
                            'bwusage' => Format::mb($t['usedThisCycleBytes']),
                            'bwlimit' => !empty($t['unlimited']) ? 0 : Format::mb($t['cycleAllowanceBytes']),
                            'lastupdate' => $now,
                        ]);
                }
                $page = $router['accounts']['pageInfo'];
                $after = $page['hasNextPage'] ? $page['endCursor'] : null;
            } while ($after !== null);
            return 'success';
        });
    }

    public static function listAccounts(array $params): array
    {
        try {
            $client = new GraphQLClient(null, Lang::forAdmin());
            $routerId = ServerRecord::ensureRouter($client, $params);
            $accounts = [];
            $after = null;
            do {
                $data = $client->call('ListAccounts',
                    'query($r: ID!, $after: String) { vpnAccounts(first: 100, after: $after, filter: { routerId: $r }) { nodes { serviceId clientId username address status createdAt product { profile } } pageInfo { hasNextPage endCursor } } }',
                    array_filter(['r' => $routerId, 'after' => $after], function ($v) {
                        return $v !== null; // an explicit null cursor is refused by the server
                    }));
                foreach ($data['vpnAccounts']['nodes'] as $a) {
                    if ($a['status'] === 'TERMINATED') {
                        continue;
                    }
                    $client_ = Whmcs::client((int) $a['clientId']);
                    $accounts[] = [
                        'email' => $client_ ? (string) $client_->email : '',
                        'username' => (string) $a['username'],
                        'domain' => '',
                        'uniqueIdentifier' => (string) $a['username'],
                        'product' => $a['product'] ? (string) $a['product']['profile'] : '',
                        'primaryip' => (string) $a['address'],
                        'created' => date('Y-m-d H:i:s', strtotime((string) $a['createdAt'])),
                        'status' => self::whmcsStatus((string) $a['status']),
                    ];
                }
                $page = $data['vpnAccounts']['pageInfo'];
                $after = $page['hasNextPage'] ? $page['endCursor'] : null;
            } while ($after !== null);
            return ['success' => true, 'accounts' => $accounts];
        } catch (BridgeException $e) {
            return ['success' => false, 'accounts' => [], 'error' => $e->getMessage()];
        }
    }

    private static function whmcsStatus(string $status): string
    {
        switch ($status) {
            case 'SUSPENDED':
                return 'Suspended';
            case 'PENDING':
                return 'Pending';
            case 'TERMINATED':
                return 'Terminated';
            default:
                return 'Active'; // LIMITED and THROTTLED are active services whose traffic is used up
        }
    }
}
