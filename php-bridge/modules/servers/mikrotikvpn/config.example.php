<?php
/**
 * MikroTik VPN module configuration. Copy this file to config.php in the same folder and fill it in.
 * Keep config.php readable by the web server user only (it holds an admin API key).
 */
return [
    // The GraphQL endpoint of the MikroTik VPN server, as WHMCS's PHP reaches it.
    'graphql_url' => 'http://127.0.0.1:4000/graphql',

    // An admin API key: mvpn apikey create --name whmcs --scope admin (see docs/whmcs-setup.md, 1.7)
    'api_key' => 'mvpn_paste_the_key_here',

    // The GraphQL endpoint as the customer's browser reaches it (client-area usage page). Leave empty
    // to use graphql_url; set it when the server is published through a reverse proxy, e.g.
    // 'https://billing.example.com/mvpn/graphql' (and list the WHMCS origin in CORS_ORIGINS).
    'browser_graphql_url' => '',

    // Seconds to wait for the connection and for the whole answer. A timed-out call is never retried.
    'connect_timeout' => 5,
    'timeout' => 30,
];
