<?php
// Loads the module's classes (no Composer at run time). Safe to include more than once.
require_once __DIR__ . '/ErrorCode.php';
require_once __DIR__ . '/BridgeException.php';
require_once __DIR__ . '/Config.php';
require_once __DIR__ . '/Lang.php';
require_once __DIR__ . '/Format.php';
require_once __DIR__ . '/Settings.php';
require_once __DIR__ . '/Whmcs.php';
require_once __DIR__ . '/GraphQLClient.php';
require_once __DIR__ . '/Module.php';
require_once __DIR__ . '/ProductSetup.php';
require_once __DIR__ . '/PolicyScreen.php';
require_once __DIR__ . '/ServerRecord.php';
require_once __DIR__ . '/Lifecycle.php';
require_once __DIR__ . '/WireGuardView.php';
require_once __DIR__ . '/SessionView.php';
require_once __DIR__ . '/SessionExport.php';
require_once __DIR__ . '/AddressLookup.php';
require_once __DIR__ . '/AdminScreen.php';
require_once __DIR__ . '/ClientScreen.php';
require_once __DIR__ . '/ClientProxy.php';
require_once __DIR__ . '/Sync.php';
require_once __DIR__ . '/Hooks.php';
