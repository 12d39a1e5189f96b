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

    // How the client-area usage page reaches the server. 'proxy' (the default): through WHMCS itself,
    // the module forwards the page's own operations over graphql_url; nothing else to publish.
    // 'direct': the customer's browser calls browser_graphql_url, the server's client-tokens-only
    // listener (CLIENT_PORT) published through a reverse proxy (docs/whmcs-setup.md, "Direct mode").
    'client_area_mode' => 'proxy',

    // Direct mode only: the GraphQL endpoint as the customer's browser reaches it, e.g.
    // 'https://billing.example.com/mvpn/graphql' (list the WHMCS origin in CORS_ORIGINS when it is
    // another host). Never a loopback address: no customer's browser reaches 127.0.0.1.
    'browser_graphql_url' => '',

    // Seconds to wait for the connection and for the whole answer. A timed-out call is never retried.
    'connect_timeout' => 5,
    'timeout' => 30,
];
