/**
 * The page's own styles, scoped to .mvpn-usage-app. WHMCS themes bring Bootstrap (the markup uses its
 * classes too); these rules keep the page readable without it and never style anything outside.
 * Logical properties (inline-start/end) make the same rules work left-to-right and right-to-left.
 */
const CSS = `
.mvpn-usage-app { font-size: 14px; line-height: 1.45; margin: 16px 0; }
.mvpn-usage-app h3 { font-size: 1.25em; margin: 0 0 12px; }
.mvpn-usage-app h4 { font-size: 1.05em; margin: 18px 0 8px; }
.mvpn-usage-app [hidden] { display: none !important; }
.mvpn-usage-app .mvpn-usage-alert { padding: 10px 14px; border-radius: 6px; margin: 0 0 12px; border: 1px solid transparent; }
.mvpn-usage-app .mvpn-usage-alert-info { background: #eff6ff; border-color: #bfdbfe; color: #1e3a8a; }
.mvpn-usage-app .mvpn-usage-alert-warning { background: #fffbeb; border-color: #fde68a; color: #78350f; }
.mvpn-usage-app .mvpn-usage-alert-danger { background: #fef2f2; border-color: #fecaca; color: #7f1d1d; }
.mvpn-usage-app .mvpn-usage-limited { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; justify-content: space-between; }
.mvpn-usage-app .mvpn-usage-toolbar { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin-bottom: 8px; }
.mvpn-usage-app .mvpn-usage-toolbar label { margin: 0; display: inline-flex; gap: 6px; align-items: center; font-weight: normal; }
.mvpn-usage-app .mvpn-usage-toolbar select, .mvpn-usage-app .mvpn-usage-toolbar input { width: auto; display: inline-block; padding: 4px 6px; }
.mvpn-usage-app .mvpn-usage-custom { display: inline-flex; flex-wrap: wrap; gap: 8px; }
.mvpn-usage-app .mvpn-usage-custom.has-error input { border-color: #dc2626; outline-color: #dc2626; }
.mvpn-usage-app .mvpn-usage-csv { margin-inline-start: auto; }
.mvpn-usage-app .mvpn-usage-canvas { position: relative; height: 320px; }
.mvpn-usage-app .mvpn-usage-marks { list-style: none; padding: 0; margin: 6px 0 0; display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 0.92em; }
.mvpn-usage-app .mvpn-usage-marks li::before { content: "\\25BC"; color: #d97706; margin-inline-end: 4px; font-size: 0.8em; }
.mvpn-usage-app table { width: 100%; border-collapse: collapse; margin: 0; }
.mvpn-usage-app th, .mvpn-usage-app td { padding: 6px 8px; border-bottom: 1px solid #e5e7eb; text-align: start; }
.mvpn-usage-app td.mvpn-num, .mvpn-usage-app th.mvpn-num { text-align: end; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mvpn-usage-app tbody tr:nth-child(odd) { background: #f9fafb; }
.mvpn-usage-app .mvpn-negative { color: #b91c1c; }
.mvpn-usage-app .mvpn-added-line { display: block; }
.mvpn-usage-app .mvpn-added-kind { color: #6b7280; font-size: 0.9em; }
.mvpn-usage-app bdi { unicode-bidi: isolate; }
.mvpn-usage-app .mvpn-usage-pager { display: flex; gap: 10px; align-items: center; justify-content: flex-end; margin-top: 6px; }
.mvpn-usage-app .mvpn-usage-unit { color: #6b7280; font-size: 0.9em; margin-top: 12px; }
.mvpn-usage-app .mvpn-usage-btn { cursor: pointer; }
`;

export function injectStyles(doc: Document): void {
  if (doc.getElementById('mvpn-usage-style')) return;
  const style = doc.createElement('style');
  style.id = 'mvpn-usage-style';
  style.textContent = CSS;
  doc.head.appendChild(style);
}
