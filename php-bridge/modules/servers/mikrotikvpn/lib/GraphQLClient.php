<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * The one way the module talks to the GraphQL server: HTTP POST with curl and json only. Every call
 * is written to WHMCS's module log with the API key, passwords and tokens masked. Nothing is retried:
 * a timeout is reported, never repeated, so a credit can not be applied twice by the bridge.
 */
class GraphQLClient
{
    const MODULE = 'mikrotikvpn';

    /** Stands in the module log for what holds a WireGuard private key. */
    const REDACTED = '(not logged: holds the private key)';

    /** @var array<string,mixed> */
    private $config;

    /** @var Lang */
    private $lang;

    /** @param array<string,mixed>|null $config */
    public function __construct(?array $config = null, ?Lang $lang = null)
    {
        $this->config = $config !== null ? $config : Config::get();
        $this->lang = $lang !== null ? $lang : new Lang('english');
    }

    /**
     * Runs one operation and returns its `data`.
     *
     * @param array<string,mixed> $variables
     * @param string[] $secrets more values to mask in the log (the client's password, ...)
     * @return array<string,mixed>
     */
    public function call(string $action, string $query, array $variables = [], array $secrets = []): array
    {
        $url = (string) $this->config['graphql_url'];
        $key = (string) $this->config['api_key'];
        if ($url === '' || $key === '') {
            throw new BridgeException(BridgeException::CONFIG, $this->lang->t('err_config'));
        }
        $mask = array_merge([$key], $secrets, self::secretsIn($variables));
        $body = json_encode(['query' => $query, 'variables' => (object) $variables]);
        $request = ['url' => $url, 'query' => self::compact($query), 'variables' => $variables];

        [$raw, $errno, $curlError, $status] = $this->post($url, $key, $body);

        if ($raw === false || $errno !== 0) {
            $timeout = $errno === CURLE_OPERATION_TIMEDOUT;
            $error = $timeout
                ? new BridgeException(BridgeException::TIMEOUT, $this->lang->t('err_timeout', ['seconds' => (int) $this->config['timeout']]))
                : new BridgeException(BridgeException::NETWORK, $this->lang->t('err_network', ['url' => self::safeUrl($url), 'detail' => $curlError]));
            $this->log($action, $request, 'curl error ' . $errno . ': ' . $curlError, $error->getMessage(), $mask);
            throw $error;
        }
        $decoded = json_decode((string) $raw, true);
        if (is_array($decoded) && isset($decoded['data']['mintClientToken']['token'])) {
            $mask[] = (string) $decoded['data']['mintClientToken']['token'];
        }
        // What the log gets: the answer without what holds a WireGuard private key.
        $logged = $decoded;
        $loggedRaw = (string) $raw;
        if (is_array($decoded) && self::redactWireGuardConfigs($logged, $mask)) {
            $loggedRaw = (string) json_encode($logged, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        }
        if (!is_array($decoded) || (!array_key_exists('data', $decoded) && !isset($decoded['errors']))) {
            $error = $status >= 300
                ? new BridgeException(BridgeException::HTTP, $this->lang->t('err_http', ['status' => $status]))
                : new BridgeException(BridgeException::BAD_RESPONSE, $this->lang->t('err_http', ['status' => $status]));
            $this->log($action, $request, (string) $raw, $error->getMessage(), $mask);
            throw $error;
        }
        if (!empty($decoded['errors'])) {
            $first = $decoded['errors'][0];
            $code = isset($first['extensions']['code']) ? (string) $first['extensions']['code'] : ErrorCode::INTERNAL_SERVER_ERROR;
            $settings = $code === ErrorCode::VALIDATION ? $this->settingsMessage($first) : '';
            $error = new BridgeException($code, $settings !== '' ? $settings
                : $this->humanMessage($code, isset($first['message']) ? (string) $first['message'] : ''));
            if (isset($first['extensions']) && is_array($first['extensions'])) {
                $error->withExtensions($first['extensions']);
            }
            $this->log($action, $request, $loggedRaw, $logged, $mask);
            throw $error;
        }
        $this->log($action, $request, $loggedRaw, $logged, $mask);
        return is_array($decoded['data']) ? $decoded['data'] : [];
    }

    /**
     * Forwards one operation of the client-area usage page with the customer's own client token
     * (never the module's API key) and returns the server's answer as it is: its HTTP status and the
     * decoded body, errors included. Throws only when there is no answer (network, timeout, not JSON).
     *
     * @param array<string,mixed> $variables
     * @return array{status:int,body:array<string,mixed>}
     */
    public function forward(string $action, string $operationName, string $query, array $variables, string $clientToken): array
    {
        $url = (string) $this->config['graphql_url'];
        if ($url === '' || $clientToken === '') {
            throw new BridgeException(BridgeException::CONFIG, $this->lang->t('err_config'));
        }
        $mask = [$clientToken, (string) $this->config['api_key']];
        $body = json_encode(['operationName' => $operationName, 'query' => $query, 'variables' => (object) $variables]);
        $request = ['url' => $url, 'query' => self::compact($query), 'variables' => $variables];
        [$raw, $errno, $curlError, $status] = $this->post($url, $clientToken, $body);
        if ($raw === false || $errno !== 0) {
            $error = $errno === CURLE_OPERATION_TIMEDOUT
                ? new BridgeException(BridgeException::TIMEOUT, $this->lang->t('err_timeout', ['seconds' => (int) $this->config['timeout']]))
                : new BridgeException(BridgeException::NETWORK, $this->lang->t('err_network', ['url' => self::safeUrl($url), 'detail' => $curlError]));
            $this->log($action, $request, 'curl error ' . $errno . ': ' . $curlError, $error->getMessage(), $mask);
            throw $error;
        }
        $decoded = json_decode((string) $raw, true);
        $this->log($action, $request, (string) $raw, $decoded, $mask);
        if (!is_array($decoded) || (!array_key_exists('data', $decoded) && !isset($decoded['errors']))) {
            throw new BridgeException(BridgeException::HTTP, $this->lang->t('err_http', ['status' => $status]));
        }
        return ['status' => $status, 'body' => $decoded];
    }

    /**
     * One POST of a JSON body with a Bearer credential; nothing retried, no redirect followed.
     *
     * @return array{0:string|false,1:int,2:string,3:int} the body, curl's errno and error, the HTTP status
     */
    private function post(string $url, string $bearer, string $body): array
    {
        $ch = curl_init($url);
        curl_setopt_array($ch, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => [
                'Content-Type: application/json',
                'Accept: application/json',
                'Authorization: Bearer ' . $bearer,
            ],
            CURLOPT_CONNECTTIMEOUT => (int) $this->config['connect_timeout'],
            CURLOPT_TIMEOUT => (int) $this->config['timeout'],
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_NOSIGNAL => true,
            CURLOPT_NOPROXY => (string) $this->config['no_proxy'],
        ]);
        $raw = curl_exec($ch);
        $errno = curl_errno($ch);
        $curlError = curl_error($ch);
        $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        curl_close($ch);
        return [$raw, $errno, $curlError, $status];
    }

    /**
     * A VALIDATION naming product settings (extensions.settings, with the server's reason for each
     * in extensions.reasons), in the admin's language: each setting by its translated label.
     * '' when the error names none.
     *
     * @param array<string,mixed> $error
     */
    private function settingsMessage(array $error): string
    {
        $keys = isset($error['extensions']['settings']) && is_array($error['extensions']['settings'])
            ? array_values(array_filter($error['extensions']['settings'], 'is_string')) : [];
        if (!$keys) {
            return '';
        }
        $reasons = isset($error['extensions']['reasons']) && is_array($error['extensions']['reasons'])
            ? $error['extensions']['reasons'] : [];
        $parts = [];
        foreach ($keys as $key) {
            $label = $this->lang->t('setting_' . $key);
            $reason = isset($reasons[$key]) && is_string($reasons[$key]) ? $reasons[$key] : '';
            $parts[] = ($label === 'setting_' . $key ? $key : $label) . ($reason !== '' ? ' (' . $reason . ')' : '');
        }
        return $this->lang->t('err_settings', ['settings' => implode('; ', $parts)]);
    }

    /** One sentence for a GraphQL error code and the server's own message. */
    private function humanMessage(string $code, string $message): string
    {
        switch ($code) {
            case ErrorCode::UNAUTHENTICATED:
            case ErrorCode::FORBIDDEN:
                return $this->lang->t('err_auth');
            case ErrorCode::DATABASE_UNAVAILABLE:
                return $this->lang->t('err_database');
            case ErrorCode::INTERNAL_SERVER_ERROR:
                return $this->lang->t('err_internal');
        }
        $message = trim(preg_replace('/\s+/', ' ', $message));
        if ($message === '') {
            return $this->lang->t('err_internal');
        }
        $message = ucfirst($message);
        return preg_match('/[.!?]$/', $message) ? $message : $message . '.';
    }

    /**
     * @param mixed $request
     * @param mixed $processed
     * @param string[] $mask
     */
    private function log(string $action, $request, string $response, $processed, array $mask): void
    {
        if (!function_exists('logModuleCall')) {
            return;
        }
        $mask = array_values(array_unique(array_filter(array_map('strval', $mask), function ($v) {
            return strlen($v) >= 3;
        })));
        logModuleCall(self::MODULE, $action, $request, $response, $processed, $mask);
    }

    /**
     * Values of variables whose name says they are secret (password, token, key), at any depth.
     *
     * @param array<string,mixed> $variables
     * @return string[]
     */
    private static function secretsIn(array $variables): array
    {
        $found = [];
        array_walk_recursive($variables, function ($value, $name) use (&$found) {
            if (is_string($value) && is_string($name) && preg_match('/password|secret|token|apikey|psk/i', $name)) {
                $found[] = $value;
            }
        });
        return $found;
    }

    /**
     * A WireGuard config (VpnAccount.wireGuardConfig) holds the client's private and preshared keys in
     * its text, and the same text in its QR code: both are replaced by a placeholder, at any depth, and
     * the keys are added to the mask in case they appear elsewhere. True when there was one.
     *
     * @param mixed $value the decoded answer (changed in place)
     * @param string[] $mask
     */
    private static function redactWireGuardConfigs(&$value, array &$mask): bool
    {
        if (!is_array($value)) {
            return false;
        }
        $found = false;
        foreach ($value as $name => &$child) {
            if ($name === 'wireGuardConfig' && is_array($child)) {
                if (isset($child['text']) && is_string($child['text'])
                    && preg_match_all('/^\s*(?:PrivateKey|PresharedKey)\s*=\s*(\S+)/mi', $child['text'], $m)) {
                    foreach ($m[1] as $key) {
                        $mask[] = $key;
                    }
                }
                foreach (['text', 'qrSvg'] as $secret) {
                    if (isset($child[$secret])) {
                        $child[$secret] = self::REDACTED;
                    }
                }
                $found = true;
            } elseif (is_array($child) && self::redactWireGuardConfigs($child, $mask)) {
                $found = true;
            }
        }
        unset($child);
        return $found;
    }

    private static function compact(string $query): string
    {
        return trim(preg_replace('/\s+/', ' ', $query));
    }

    /** The URL without credentials or query string, for messages. */
    private static function safeUrl(string $url): string
    {
        $p = parse_url($url);
        if (!is_array($p) || !isset($p['host'])) {
            return '(invalid URL)';
        }
        return (isset($p['scheme']) ? $p['scheme'] : 'http') . '://' . $p['host']
            . (isset($p['port']) ? ':' . $p['port'] : '') . (isset($p['path']) ? $p['path'] : '');
    }
}
