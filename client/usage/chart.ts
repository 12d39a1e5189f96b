/**
 * The daily chart: download and upload as stacked bars, the balance as a line on its own axis, and a
 * mark on every day traffic was added. Chart.js is bundled (tree-shaken to what is used here).
 * Everything is drawn from the daily rows the server sends (every day of the range, each with its
 * end-of-day balance, which includes that day's top-ups), so the line agrees with the history.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDatasetCustomTypesPerDataset,
  type Plugin,
} from 'chart.js';
import type { DayRow, TopUp } from './api';
import { gbNumber, ltrText, type Formatter } from './format';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Legend,
);

/** Colours (also what the browser tests look for on the canvas). */
export const COLORS = {
  download: '#2563eb',
  upload: '#16a34a',
  balance: '#7c3aed',
  mark: '#d97706',
} as const;

export interface ChartInput {
  /** Every day to draw, oldest first. */
  rows: DayRow[];
  /** Lines of traffic added (marked on their day when it is drawn). */
  topUps: TopUp[];
  unlimited: boolean;
  rtl: boolean;
  format: Formatter;
  labels: {
    download: string;
    upload: string;
    balance: string;
    unit: string;
    kind: (kind: string) => string;
  };
}

interface MarksOptions {
  days: number[];
}

/** Draws a dashed line and a flag at the top of each day that has a credit. */
const marksPlugin: Plugin<'bar' | 'line', MarksOptions> = {
  id: 'mvpnMarks',
  afterDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    const x = scales.x;
    if (!x) return;
    ctx.save();
    for (const index of options.days ?? []) {
      const px = Math.round(x.getPixelForValue(index));
      ctx.strokeStyle = COLORS.mark;
      ctx.fillStyle = COLORS.mark;
      ctx.lineWidth = 2;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(px, chartArea.top + 8);
      ctx.lineTo(px, chartArea.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(px - 6, chartArea.top);
      ctx.lineTo(px + 6, chartArea.top);
      ctx.lineTo(px, chartArea.top + 9);
      ctx.closePath();
      ctx.fill();
    }
    ctx.restore();
  },
};

export function renderChart(canvas: HTMLCanvasElement, input: ChartInput): Chart<'bar' | 'line'> {
  const { format, labels } = input;
  const days = input.rows.map((r) => r.day);
  const byDay = new Map(input.rows.map((r) => [r.day, r]));
  const creditsByDay = new Map<string, TopUp[]>();
  for (const t of input.topUps) {
    if (!byDay.has(t.day)) continue;
    creditsByDay.set(t.day, [...(creditsByDay.get(t.day) ?? []), t]);
  }
  const markDays = days.map((d, i) => (creditsByDay.has(d) ? i : -1)).filter((i) => i >= 0);
  const gb = (v: bigint | undefined) => (v === undefined ? 0 : gbNumber(v));
  const datasets: ChartDatasetCustomTypesPerDataset<'bar' | 'line', (number | null)[]>[] = [
    {
      type: 'bar',
      label: labels.download,
      data: days.map((d) => gb(byDay.get(d)?.downloadBytes)),
      backgroundColor: COLORS.download,
      stack: 'traffic',
      yAxisID: 'y',
      order: 2,
    },
    {
      type: 'bar',
      label: labels.upload,
      data: days.map((d) => gb(byDay.get(d)?.uploadBytes)),
      backgroundColor: COLORS.upload,
      stack: 'traffic',
      yAxisID: 'y',
      order: 2,
    },
  ];
  if (!input.unlimited) {
    datasets.push({
      type: 'line',
      label: labels.balance,
      // Every day carries its end-of-day balance (carried over quiet days, top-ups included).
      data: input.rows.map((r) => gbNumber(r.balanceAfterBytes)),
      borderColor: COLORS.balance,
      backgroundColor: COLORS.balance,
      pointRadius: days.length > 45 ? 0 : 2,
      borderWidth: 2,
      yAxisID: 'balance',
      order: 1,
    });
  }
  const tick = (value: string | number) => format.bytes(BigInt(Math.round(Number(value) * 1e9)));
  return new Chart<'bar' | 'line', (number | null)[], string>(canvas, {
    data: { labels: days.map((d) => format.day(d)), datasets },
    options: {
      locale: format.locale,
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { stacked: true, reverse: input.rtl, ticks: { autoSkip: true, maxRotation: 0 } },
        y: {
          stacked: true,
          beginAtZero: true,
          position: input.rtl ? 'right' : 'left',
          title: { display: true, text: `${labels.download} + ${labels.upload} (${labels.unit})` },
          ticks: { callback: tick },
        },
        balance: {
          display: !input.unlimited,
          // From zero, so that the line shows how much is left (or how far below zero it went).
          beginAtZero: true,
          position: input.rtl ? 'left' : 'right',
          grid: { drawOnChartArea: false },
          title: { display: true, text: `${labels.balance} (${labels.unit})` },
          ticks: { callback: tick },
        },
      },
      plugins: {
        legend: { rtl: input.rtl, position: 'bottom' },
        tooltip: {
          rtl: input.rtl,
          callbacks: {
            label: (item) => {
              const day = days[item.dataIndex];
              const row = byDay.get(day);
              const value =
                item.datasetIndex === 0
                  ? row?.downloadBytes
                  : item.datasetIndex === 1
                    ? row?.uploadBytes
                    : row?.balanceAfterBytes;
              if (value === undefined) return '';
              return `${item.dataset.label}: ${format.bytes(value)} ${labels.unit}`;
            },
            footer: (items) => {
              const day = items[0] ? days[items[0].dataIndex] : undefined;
              return (day ? (creditsByDay.get(day) ?? []) : []).map(
                (t) => `${ltrText(format.signedBytes(t.bytes))} ${labels.unit} (${labels.kind(t.kind)})`,
              );
            },
          },
        },
        // Chart.js keys plugin options by id; the typing of custom plugins is loose on purpose.
        ...({ mvpnMarks: { days: markDays } } as object),
      },
    },
    plugins: [marksPlugin as Plugin<'bar' | 'line'>],
  });
}
