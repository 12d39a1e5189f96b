<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * The usage page's way to the server in proxy mode (the default): the page posts its operation to
 * the module's own action on the WHMCS origin (clientarea.php?action=productdetails&id=<service>&
 * modop=custom&a=usageData, or the admin service page's command), and the module forwards it over
 * the private connection (graphql_url) with the page's client token. The browser never needs a
 * second public host, CORS, or anything that takes an admin key.
 *
 * Forwarded is only what the page itself sends: one of the operations in usage-operations.json,
 * its document exactly as shipped, on this service (the `s` variable is set to it). No business rule
 * here: the server decides what the token may read.
 */
class ClientProxy
{
    /** The page's largest request is a few hundred bytes; anything near this is not the page. */
    const MAX_BODY_BYTES = 8192;

    /** The function WHMCS runs for it (mikrotikvpn_usageData), listed in ClientAreaAllowedFunctions. */
    const ACTION = 'usageData';

    /** Runs as WHMCS's custom module function: answers the request with JSON and ends it. */
    public static function run(array $params): void
    {
        $method = isset($_SERVER['REQUEST_METHOD']) ? strtoupper((string) $_SERVER['REQUEST_METHOD']) : '';
        $token = isset($_SERVER['HTTP_X_MVPN_CLIENT_TOKEN']) ? (string) $_SERVER['HTTP_X_MVPN_CLIENT_TOKEN'] : '';
        $body = (string) file_get_contents('php://input', false, null, 0, self::MAX_BODY_BYTES + 1);
        $answer = self::answer($params, $method, $body, $token);
        if (!headers_sent()) {
            http_response_code($answer['status']);
        }
        Module::respond([
            'Content-Type: application/json; charset=utf-8',
            'Cache-Control: no-store',
            'X-Content-Type-Options: nosniff',
        ], (string) json_encode($answer['body'], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
    }

    /**
     * What the action answers to one request: an HTTP status and a GraphQL-shaped JSON body (errors
     * carry a message and extensions.code, which the page turns into its own words).
     *
     * @return array{status:int,body:array<string,mixed>}
     */
    public static function answer(array $params, string $method, string $body, string $token): array
    {
        $config = Config::get();
        if ($config['client_area_mode'] !== 'proxy') {
            return self::error(403, ErrorCode::FORBIDDEN, 'The usage page is set to call the server directly (client_area_mode)');
        }
        if ($method !== 'POST') {
            return self::error(405, ErrorCode::VALIDATION, 'Send the operation with POST');
        }
        // WHMCS opens a service's custom action only for its owner; the module checks again, since
        // what it forwards is that customer's data.
        if (!Whmcs::inAdminArea()) {
            $loggedIn = Whmcs::loggedInClientId();
            if ($loggedIn <= 0 || $loggedIn !== (int) $params['userid']) {
                return self::error(403, ErrorCode::FORBIDDEN, 'This service does not belong to the client logged in');
            }
        }
        if (strlen($body) > self::MAX_BODY_BYTES) {
            return self::error(413, ErrorCode::VALIDATION, 'Request body too large (limit ' . self::MAX_BODY_BYTES . ' bytes)');
        }
        $request = json_decode($body, true);
        if (!is_array($request)) {
            return self::error(400, ErrorCode::VALIDATION, 'Request body is not valid JSON');
        }
        $name = isset($request['operationName']) && is_string($request['operationName']) ? $request['operationName'] : '';
        $operations = self::operations();
        if (!isset($operations[$name]) || !isset($request['query']) || $request['query'] !== $operations[$name]) {
            return self::error(400, ErrorCode::VALIDATION, 'Only the usage page\'s own operations are forwarded');
        }
        $variables = isset($request['variables']) ? $request['variables'] : [];
        if (!is_array($variables) || ($variables !== [] && array_keys($variables) === range(0, count($variables) - 1))) {
            return self::error(400, ErrorCode::VALIDATION, 'The variables must be an object');
        }
        if (strpos($token, 'mvpnc.') !== 0 || strlen($token) > 2048 || !preg_match('/^[A-Za-z0-9._~+\/=-]+$/', $token)) {
            return self::error(401, ErrorCode::UNAUTHENTICATED, 'The client token is missing or not a client token; reload the page');
        }
        $variables['s'] = (int) $params['serviceid'];
        try {
            $client = new GraphQLClient(null, Lang::forClient((int) $params['userid']));
            $answer = $client->forward('UsageData ' . $name, $name, $operations[$name], $variables, $token);
        } catch (BridgeException $e) {
            // Not the curl text nor the private URL: the page says the statistics can not be loaded.
            return self::error(502, ErrorCode::INTERNAL_SERVER_ERROR, 'The traffic server did not answer');
        }
        $out = [];
        if (array_key_exists('data', $answer['body'])) {
            $out['data'] = $answer['body']['data'];
        }
        if (!empty($answer['body']['errors']) && is_array($answer['body']['errors'])) {
            $out['errors'] = array_map([self::class, 'publicError'], array_values($answer['body']['errors']));
        }
        $status = $answer['status'] >= 200 && $answer['status'] < 600 ? $answer['status'] : 502;
        return ['status' => $status, 'body' => $out];
    }

    /** @return array<string,string> operation name => its exact document */
    public static function operations(): array
    {
        static $operations = null;
        if ($operations === null) {
            $decoded = json_decode((string) file_get_contents(__DIR__ . '/usage-operations.json'), true);
            $operations = is_array($decoded) ? $decoded : [];
        }
        return $operations;
    }

    /**
     * An error as the browser gets it: its message, code and (for tokens) reason; nothing else the
     * server may attach (a stack in development, paths of the query).
     *
     * @param mixed $error
     * @return array<string,mixed>
     */
    private static function publicError($error): array
    {
        $error = is_array($error) ? $error : [];
        $extensions = ['code' => isset($error['extensions']['code']) ? (string) $error['extensions']['code'] : ErrorCode::INTERNAL_SERVER_ERROR];
        if (isset($error['extensions']['reason']) && is_string($error['extensions']['reason'])) {
            $extensions['reason'] = $error['extensions']['reason'];
        }
        return ['message' => isset($error['message']) ? (string) $error['message'] : '', 'extensions' => $extensions];
    }

    /** @return array{status:int,body:array<string,mixed>} */
    private static function error(int $status, string $code, string $message): array
    {
        return ['status' => $status, 'body' => ['errors' => [['message' => $message, 'extensions' => ['code' => $code]]]]];
    }
}
