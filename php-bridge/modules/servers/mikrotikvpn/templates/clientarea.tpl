{* MikroTik VPN: client-area overview block. Bootstrap 3 and 4 classes side by side so that WHMCS's
   Six and Twenty-One themes both render it. All text comes from the module's lang files. *}
<div class="mvpn" id="mvpn-service-{$mvpnServiceId|escape}" dir="{$mvpnDir|escape}" lang="{$mvpnLanguage|escape}">

  {if $mvpn.instructionsUrl}
    <p class="mvpn-instructions text-center">
      <a class="btn btn-info btn-sm" href="{$mvpn.instructionsUrl|escape}" target="_blank" rel="noopener noreferrer">{$mvpnLang.instructions|escape}</a>
    </p>
  {/if}

  {if $mvpn.error}
    <div class="alert alert-warning mvpn-unavailable" role="alert">{$mvpn.error|escape}</div>
  {/if}
  {if $mvpn.limited}
    <div class="alert alert-danger mvpn-limited" role="alert">{$mvpnLang.limited_banner|escape}</div>
  {elseif $mvpn.throttled}
    <div class="alert alert-warning mvpn-throttled" role="alert">{$mvpnLang.throttled_banner|escape}</div>
  {elseif $mvpn.suspended}
    <div class="alert alert-warning mvpn-suspended" role="alert">{$mvpnLang.suspended_banner|escape}</div>
  {/if}

  <div class="row">
    <div class="col-sm-6 col-md-6">
      {if $mvpn.wireguard}
      {* ===== WireGuard: the peer's endpoint and address, the config file and its QR code, new keys. ===== *}
      <div class="panel panel-default card mb-3 mvpn-wg">
        <div class="panel-heading card-header"><strong>{$mvpnLang.wg_title|escape}</strong></div>
        <div class="panel-body card-body">
          <table class="table table-condensed table-sm mvpn-access">
            <tr><th>{$mvpnLang.wg_endpoint|escape}</th><td><code class="mvpn-wg-endpoint"><bdi dir="ltr">{if $mvpn.wg}{$mvpn.wg.endpoint|escape}{else}{$mvpn.serverAddress|escape}{/if}</bdi></code></td></tr>
            {if $mvpn.address}
              <tr><th>{$mvpnLang.address|escape}</th><td><code class="mvpn-address"><bdi dir="ltr">{$mvpn.address|escape}</bdi></code></td></tr>
            {/if}
            <tr><th>{$mvpnLang.username|escape}</th><td><code class="mvpn-username">{$mvpn.username|escape}</code></td></tr>
          </table>
          {if $mvpn.wg && $mvpn.wg.configBase64}
            <p class="mvpn-wg-config">
              <a class="btn btn-primary btn-sm mvpn-wg-download" download="{$mvpn.wg.fileName|escape}" href="data:text/plain;charset=utf-8;base64,{$mvpn.wg.configBase64|escape}">{$mvpnLang.wg_download|escape} <bdi dir="ltr">{$mvpn.wg.fileName|escape}</bdi></a>
            </p>
            {if $mvpn.wg.qrSvg}
              <div class="mvpn-wg-qr" role="img" aria-label="{$mvpnLang.wg_qr|escape}" style="max-width:260px;margin-bottom:10px">{$mvpn.wg.qrSvg nofilter}</div>
            {/if}
            <p class="small text-muted">{$mvpnLang.wg_hint|escape}</p>
            <p class="small text-muted mvpn-wg-private">{$mvpnLang.wg_keep_private|escape}</p>
          {elseif $mvpn.hasAccount}
            <p class="small text-muted mvpn-wg-noconfig">{$mvpnLang.wg_no_config|escape}</p>
          {/if}
          {if $mvpn.hasAccount}
            <form method="post" action="clientarea.php?action=productdetails" class="mvpn-wg-newkeys"
                  data-confirm="{$mvpnLang.wg_new_keys_confirm|escape}" onsubmit="return window.confirm(this.getAttribute('data-confirm'));">
              <input type="hidden" name="token" value="{$token|default:''|escape}">
              <input type="hidden" name="id" value="{$mvpn.serviceId|escape}">
              <input type="hidden" name="modop" value="custom">
              <input type="hidden" name="a" value="newKeys">
              <input type="hidden" name="mvpn_confirm" value="1">
              <button type="submit" class="btn btn-default btn-outline-secondary btn-sm">{$mvpnLang.wg_new_keys|escape}</button>
              <span class="small text-muted">{$mvpnLang.wg_new_keys_hint|escape}</span>
            </form>
          {/if}
        </div>
      </div>
      {else}
      <div class="panel panel-default card mb-3">
        <div class="panel-heading card-header"><strong>{$mvpnLang.access_title|escape}</strong></div>
        <div class="panel-body card-body">
          <table class="table table-condensed table-sm mvpn-access">
            <tr><th>{$mvpnLang.server_address|escape}</th><td><code class="mvpn-server">{$mvpn.serverAddress|escape}</code></td></tr>
            <tr><th>{$mvpnLang.protocols|escape}</th><td class="mvpn-protocols">{foreach $mvpn.protocols as $protocol}<span class="label label-info badge badge-info">{$protocol|escape}</span> {/foreach}</td></tr>
            {if $mvpn.psk}
              <tr><th>{$mvpnLang.l2tp_psk|escape}</th><td><code class="mvpn-psk">{$mvpn.psk|escape}</code></td></tr>
            {/if}
            <tr><th>{$mvpnLang.username|escape}</th><td><code class="mvpn-username">{$mvpn.username|escape}</code></td></tr>
            {if $mvpn.password}
              <tr><th>{$mvpnLang.password|escape}</th><td><code class="mvpn-password">{$mvpn.password|escape}</code></td></tr>
            {/if}
          </table>
          <p class="small text-muted">{$mvpnLang.login_hint|escape}</p>
        </div>
      </div>
      {/if}
    </div>

    <div class="col-sm-6 col-md-6">
      <div class="panel panel-default card mb-3">
        <div class="panel-heading card-header">
          <strong>{$mvpnLang.connection|escape}</strong>
          {if $mvpn.hasAccount}
            {if $mvpn.online}
              <span class="label label-success badge badge-success mvpn-state mvpn-online">{$mvpnLang.online|escape}</span>
            {else}
              <span class="label label-default badge badge-secondary mvpn-state mvpn-offline">{$mvpnLang.offline|escape}</span>
            {/if}
          {/if}
        </div>
        <div class="panel-body card-body">
          {if $mvpn.wg}
          <table class="table table-condensed table-sm mvpn-connection mvpn-wg-state">
            <tr><th>{$mvpnLang.wg_last_handshake|escape}</th><td class="mvpn-wg-handshake">{if $mvpn.wg.lastHandshake}<bdi dir="ltr">{$mvpn.wg.lastHandshake|escape}</bdi> ({$mvpn.wg.handshakeAgo|escape}){else}{$mvpnLang.wg_never|escape}{/if}</td></tr>
            <tr><th>{$mvpnLang.conn_caller|escape}</th><td class="mvpn-wg-current">{if $mvpn.online && $mvpn.wg.currentEndpoint}<bdi dir="ltr">{$mvpn.wg.currentEndpoint|escape}</bdi>{else}&ndash;{/if}</td></tr>
            <tr><th>{$mvpnLang.address|escape}</th><td>{if $mvpn.online}<bdi dir="ltr">{$mvpn.address|escape}</bdi>{else}&ndash;{/if}</td></tr>
          </table>
          {if !$mvpn.wg.live}
            <p class="small text-muted mvpn-wg-notlive">{$mvpnLang.wg_not_live|escape}</p>
          {/if}
          {else}
          <table class="table table-condensed table-sm mvpn-connection">
            <tr><th>{$mvpnLang.conn_service|escape}</th><td>{if $mvpn.online}{$mvpn.connService|escape}{else}&ndash;{/if}</td></tr>
            <tr><th>{$mvpnLang.username|escape}</th><td>{if $mvpn.online}{$mvpn.username|escape}{else}&ndash;{/if}</td></tr>
            <tr><th>{$mvpnLang.address|escape}</th><td>{if $mvpn.online}{$mvpn.connAddress|escape}{else}&ndash;{/if}</td></tr>
            <tr><th>{$mvpnLang.conn_uptime|escape}</th><td class="mvpn-uptime">{if $mvpn.online}{$mvpn.connUptime|escape}{else}&ndash;{/if}</td></tr>
          </table>
          {/if}
        </div>
      </div>
    </div>
  </div>

  {if $mvpn.hasAccount}
    <div class="panel panel-default card mb-3">
      <div class="panel-body card-body">
        <div class="row text-center mvpn-traffic">
          <div class="col-xs-6 col-6 col-sm-3">
            <div class="small text-muted">{$mvpnLang.traffic_balance|escape}</div>
            <div class="h4 mvpn-balance{if $mvpn.balanceNegative} text-danger{/if}">{$mvpn.balance|escape}</div>
            {if $mvpn.carriedOver}<div class="small text-muted mvpn-carried-over">{$mvpn.carriedOver|escape}</div>{/if}
          </div>
          <div class="col-xs-6 col-6 col-sm-3">
            <div class="small text-muted">{$mvpnLang.bandwidth_download|escape}</div>
            <div class="h4 mvpn-download">{$mvpn.download|escape}</div>
          </div>
          <div class="col-xs-6 col-6 col-sm-3">
            <div class="small text-muted">{$mvpnLang.bandwidth_upload|escape}</div>
            <div class="h4 mvpn-upload">{$mvpn.upload|escape}</div>
          </div>
          <div class="col-xs-6 col-6 col-sm-3">
            <div class="small text-muted">{$mvpnLang.cycle_allowance|escape}</div>
            <div class="h4 mvpn-allowance">{$mvpn.allowance|escape}</div>
          </div>
        </div>
        <p class="small text-muted text-center mb-0">{$mvpnLang.unit_note|escape}</p>
        {if $mvpn.thresholds}
          <p class="small text-center mb-0 mvpn-thresholds">{$mvpnLang.thresholds_reached|escape}: <bdi dir="ltr">{$mvpn.thresholds|escape}</bdi></p>
        {/if}
      </div>
    </div>
  {/if}

  {* ===== Recent connections: the session log's last 20 sessions of this service, times in the
     account's time zone (the note below says which). ===== *}
  {if $mvpn.sessionsShown}
    <div class="panel panel-default card mb-3 mvpn-sessions">
      <div class="panel-heading card-header"><strong>{$mvpnLang.sessions_title|escape}</strong></div>
      <div class="panel-body card-body">
        {if $mvpn.sessions}
          <div class="table-responsive">
            <table class="table table-condensed table-sm table-striped mvpn-sessions-table">
              <thead>
                <tr>
                  <th>{$mvpnLang.sessions_start|escape}</th>
                  <th>{$mvpnLang.sessions_duration|escape}</th>
                  <th>{$mvpnLang.conn_caller|escape}</th>
                  <th>{$mvpnLang.address|escape}</th>
                  <th>{$mvpnLang.usage_download|escape}</th>
                  <th>{$mvpnLang.usage_upload|escape}</th>
                  <th>{$mvpnLang.sessions_end|escape}</th>
                </tr>
              </thead>
              <tbody>
                {foreach $mvpn.sessions as $s}
                  <tr class="mvpn-session{if $s.open} mvpn-session-open{/if}">
                    <td class="mvpn-session-start"><bdi dir="ltr">{$s.start|escape}</bdi></td>
                    <td class="mvpn-session-duration"><bdi dir="ltr">{$s.duration|escape}</bdi></td>
                    <td class="mvpn-session-caller"><bdi dir="ltr">{$s.callerId|escape}</bdi></td>
                    <td class="mvpn-session-address"><bdi dir="ltr">{$s.address|escape}</bdi></td>
                    <td class="mvpn-session-download"><bdi dir="ltr">{$s.download|escape}</bdi> {$s.downloadUnit|escape}</td>
                    <td class="mvpn-session-upload"><bdi dir="ltr">{$s.upload|escape}</bdi> {$s.uploadUnit|escape}</td>
                    <td class="mvpn-session-end">{if $s.open}<span class="label label-success badge badge-success">{$mvpnLang.sessions_open|escape}</span>{else}<bdi dir="ltr">{$s.end|escape}</bdi>{if $s.endReason} <span class="small text-muted mvpn-session-reason">({$s.endReason|escape})</span>{/if}{/if}</td>
                  </tr>
                {/foreach}
              </tbody>
            </table>
          </div>
          <p class="small text-muted mb-0 mvpn-sessions-zone">{$mvpn.sessionsNote|escape}</p>
        {else}
          <p class="text-muted mb-0 mvpn-sessions-none">{$mvpnLang.sessions_none|escape}</p>
        {/if}
      </div>
    </div>
  {/if}

  {if $mvpn.addons}
    <div class="panel panel-default card mb-3 mvpn-buy">
      <div class="panel-heading card-header"><strong>{$mvpnLang.buy_traffic|escape}</strong></div>
      <div class="panel-body card-body">
        <form method="post" action="{$mvpn.cartUrl|escape}" class="form-inline">
          <input type="hidden" name="token" value="{$token|default:''|escape}">
          <input type="hidden" name="productid" value="{$mvpn.serviceId|escape}">
          <select name="aid" class="form-control custom-select mvpn-addons" aria-label="{$mvpnLang.buy_traffic|escape}">
            {foreach $mvpn.addons as $addon}
              <option value="{$addon.id|escape}">{$addon.label|escape}</option>
            {/foreach}
          </select>
          <button type="submit" class="btn btn-primary">{$mvpnLang.order_now|escape}</button>
        </form>
      </div>
    </div>
  {/if}

  {* ===== MOUNT POINT: client-area usage page (issue 7). The bundle reads these data attributes:
     the service id, where the page sends its operations (data-proxy-url: the module's usageData
     action on this WHMCS, the default; data-graphql-url: the server itself, direct mode), a short-lived client token for this service,
     its expiry, the language, the direction and the strings (JSON). ===== *}
  {if $mvpn.usage}
    <div id="mvpn-usage" class="mvpn-usage" data-service-id="{$mvpn.serviceId|escape}"
         {if $mvpn.usage.mode == 'proxy'}data-proxy-url="{$mvpn.usage.proxyUrl|escape}"{else}data-graphql-url="{$mvpn.usage.graphqlUrl|escape}"{/if} data-token="{$mvpn.usage.token|escape}"
         data-token-expires="{$mvpn.usage.expiresAt|escape}" data-language="{$mvpnLanguage|escape}"
         data-dir="{$mvpnDir|escape}" data-strings="{$mvpn.usage.strings|escape}"></div>
    {if $mvpn.usage.script}<script src="{$mvpn.usage.script|escape}" defer></script>{/if}
  {/if}
</div>
