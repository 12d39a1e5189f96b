/**
 * The daily chart: download and upload as stacked bars, the balance as a line on its own axis, and a
 * mark on every day traffic was added. Chart.js is bundled (tree-shaken to what is used here).
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
import { daysFrom, gbNumber, type Formatter } from './format';

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
  from: string;
  to: string;
  rows: DayRow[];
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
  const days = daysFrom(input.from, input.to);
  const byDay = new Map(input.rows.map((r) => [r.day, r]));
  const creditsByDay = new Map<string, TopUp[]>();
  for (const t of input.topUps) {
    if (t.day < input.from || t.day > input.to) continue;
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
      // Only days that have a row carry a balance; the line spans the days in between.
      data: days.map((d) => {
        const row = byDay.get(d);
        return row ? gbNumber(row.balanceAfterBytes) : null;
      }),
      borderColor: COLORS.balance,
      backgroundColor: COLORS.balance,
      pointRadius: days.length > 45 ? 0 : 2,
      borderWidth: 2,
      spanGaps: true,
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
                (t) => `${format.signedBytes(t.bytes)} ${labels.unit} (${labels.kind(t.kind)})`,
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
