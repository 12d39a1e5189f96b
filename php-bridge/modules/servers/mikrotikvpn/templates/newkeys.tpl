{* MikroTik VPN: asks the customer to confirm new WireGuard keys (the Actions menu links here without
   asking). The confirmed form posts back to the same custom action. *}
<div class="mvpn mvpn-wg-confirm" id="mvpn-newkeys-{$mvpnServiceId|escape}" dir="{$mvpnDir|escape}" lang="{$mvpnLanguage|escape}">
  <div class="alert alert-warning" role="alert">{$mvpnLang.wg_new_keys_confirm|escape}</div>
  <p>{$mvpnLang.wg_new_keys_hint|escape}</p>
  <form method="post" action="clientarea.php?action=productdetails" class="mvpn-wg-newkeys">
    <input type="hidden" name="token" value="{$token|default:''|escape}">
    <input type="hidden" name="id" value="{$mvpnServiceId|escape}">
    <input type="hidden" name="modop" value="custom">
    <input type="hidden" name="a" value="newKeys">
    <input type="hidden" name="mvpn_confirm" value="1">
    <button type="submit" class="btn btn-danger">{$mvpnLang.wg_new_keys|escape}</button>
    <a class="btn btn-default btn-secondary" href="clientarea.php?action=productdetails&amp;id={$mvpnServiceId|escape}">{$mvpnLang.wg_cancel|escape}</a>
  </form>
</div>
