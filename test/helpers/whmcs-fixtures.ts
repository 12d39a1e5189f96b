/** The tests' rows in WHMCS's tables: the same writer the demo seeds with (one definition). */
export { WhmcsRows as WhmcsFixtures } from '../../src/demo/whmcs-rows';
