/** CSV of what the daily table shows (every page of the chosen range), for spreadsheets. */

function field(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((cells) => cells.map(field).join(',')).join('\r\n') + '\r\n';
}

/** Offers the text as a file download (a UTF-8 BOM lets spreadsheet programs see the encoding). */
export function download(doc: Document, filename: string, text: string): void {
  const blob = new Blob(['\ufeff', text], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  doc.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
