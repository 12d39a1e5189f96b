<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * What the module's hooks do: trigger traffic collection after WHMCS's cron runs, turn the server's
 * notification outbox into WHMCS emails, and credit traffic addons when WHMCS activates or renews
 * them. Hooks never throw into WHMCS: failures go to the module log and the activity log.
 */
class Hooks
{
    /** At most this many notifications are sent per cron run. */
    const DRAIN_LIMIT = 200;

    public static function afterCron(): void
    {
        self::safely('AfterCronJob', function () {
            self::collect('CRON');
            self::drainNotifications();
        });
    }

    public static function dailyCron(): void
    {
        self::safely('DailyCronJob', function () {
            self::collect('DAILY');
            self::drainNotifications();
        });
    }

    /** @return array<string,mixed> the collection report */
    public static function collect(string $frequency): array
    {
        $client = new GraphQLClient(null, Lang::forAdmin());
        $data = $client->call('CollectTraffic',
            'mutation($f: CollectionFrequency) { collectTraffic(frequency: $f) { accountsCollected durationMs routers { routerId ok errorCode error accounts } } }',
            ['f' => $frequency]);
        $report = $data['collectTraffic'];
        foreach ($report['routers'] as $router) {
            if (empty($router['ok']) && function_exists('logActivity')) {
                logActivity('MikroTik VPN: traffic collection failed on router ' . $router['routerId'] . ': ' . $router['error']);
            }
        }
        return $report;
    }

    /**
     * Sends pending notifications with localAPI('SendEmail'): acknowledges those WHMCS accepted and
     * reports the others, which stay pending for the next run.
     *
     * @return array{sent:int,failed:int}
     */
    public static function drainNotifications(): array
    {
        $client = new GraphQLClient(null, Lang::forAdmin());
        $sent = 0;
        $failed = 0;
        $seen = [];
        while ($sent + $failed < self::DRAIN_LIMIT) {
            $data = $client->call('PendingNotifications',
                'query($n: Int) { pendingNotifications(first: $n) { id kind serviceId template mergeFields attempts } }',
                ['n' => 50]);
            $batch = [];
            foreach ($data['pendingNotifications'] as $n) {
                if (!isset($seen[$n['id']])) {
                    $batch[] = $n;
                }
            }
            if (!$batch) {
                break;
            }
            $delivered = [];
            foreach ($batch as $n) {
                $seen[$n['id']] = true;
                $result = localAPI('SendEmail', [
                    'messagename' => (string) $n['template'],
                    'id' => (int) $n['serviceId'],
                    'customvars' => is_array($n['mergeFields']) ? $n['mergeFields'] : [],
                ]);
                if (is_array($result) && isset($result['result']) && $result['result'] === 'success') {
                    $delivered[] = (string) $n['id'];
                    $sent++;
                } else {
                    $error = is_array($result) && isset($result['message']) ? (string) $result['message'] : 'SendEmail failed';
                    $client->call('ReportNotificationFailure',
                        'mutation($id: ID!, $e: String!) { reportNotificationFailure(id: $id, error: $e) }',
                        ['id' => (string) $n['id'], 'e' => $error]);
                    $failed++;
                }
            }
            if ($delivered) {
                $client->call('AcknowledgeNotifications',
                    'mutation($ids: [ID!]!) { acknowledgeNotifications(ids: $ids) }',
                    ['ids' => $delivered]);
            }
        }
        return ['sent' => $sent, 'failed' => $failed];
    }

    /** AddonActivation / AddonRenewal: credit a traffic addon of this module (idempotent). */
    public static function addon(string $hook, array $vars): void
    {
        self::safely($hook, function () use ($hook, $vars) {
            if (empty($vars['id'])) {
                return;
            }
            Lifecycle::creditAddon((int) $vars['id'], $hook === 'AddonRenewal' ? 'RENEWAL' : 'ACTIVATION');
        });
    }

    private static function safely(string $hook, callable $work): void
    {
        try {
            $work();
        } catch (\Throwable $e) {
            if (function_exists('logActivity')) {
                logActivity('MikroTik VPN (' . $hook . '): ' . $e->getMessage());
            }
        }
    }
}
