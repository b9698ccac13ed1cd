// The table every long list shares (pods, containers, events, workloads,
// services). A thousand rows laid out and diffed on every watch event took
// seconds per change on a loaded machine (the browser's table layout alone
// was most of it), so past a few hundred rows only the rows in the window's
// view (plus a margin) are in the DOM, between two spacer rows whose heights
// stand for the rest: the page keeps its full scroll height, so the scroll
// bar, PageDown/End and the mouse wheel work as on a full table, and the rows
// come into the DOM as they come into view. Each row is its own component
// keyed by the object's uid that renders again only when that object (or the
// extra value the view gives with it) changes, so one event patches one row.
// Shorter lists are drawn whole, as before, and look exactly as they did.
import { html } from 'htm/preact';
import { Component, type ComponentChildren, type VNode } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

/** Lists longer than this are drawn a window at a time. */
export const VIRTUAL_FROM = 200;
/** Rows drawn above and below the ones in view, so a scroll shows drawn rows before the next frame. */
const MARGIN = 20;
/** A row's height before one has been measured (one line of text with the table's padding). */
const DEFAULT_ROW_PX = 33;

export interface ColumnHead {
  title: string;
  /** A CSS width; long lists lay out with fixed column widths (no reflow as rows come and go). */
  width?: string;
}

interface RowProps<T> {
  item: T;
  extra: unknown;
  render: (item: T, extra: unknown) => VNode;
}

/** One row, drawn again only when its object or its extra value is another one. */
class Row<T> extends Component<RowProps<T>> {
  override shouldComponentUpdate(next: RowProps<T>): boolean {
    return next.item !== this.props.item || next.extra !== this.props.extra;
  }
  override render(): ComponentChildren {
    return this.props.render(this.props.item, this.props.extra);
  }
}

export interface TableProps<T> {
  id: string;
  head: ColumnHead[];
  rows: T[];
  /** A key that stays with the object while it changes (its uid), so a change patches its row. */
  keyOf: (item: T) => string;
  /** The row: a <tr> with as many cells as head has columns. */
  row: (item: T, extra: unknown) => VNode;
  /** Per-row values the row depends on besides the object (a container's stats series). */
  extraOf?: (item: T) => unknown;
}

/** The range of rows [first, end) that is in view or within MARGIN rows of it. */
function inView(table: HTMLTableElement, count: number, rowPx: number): [number, number] {
  const body = table.tBodies[0];
  const top = (body ?? table).getBoundingClientRect().top;
  const first = Math.floor(-top / rowPx) - MARGIN;
  const end = Math.ceil((innerHeight - top) / rowPx) + MARGIN;
  return [Math.max(0, Math.min(count, first)), Math.max(0, Math.min(count, end))];
}

export function Table<T>({ id, head, rows, keyOf, row, extraOf }: TableProps<T>) {
  const ref = useRef<HTMLTableElement>(null);
  const virtual = rows.length > VIRTUAL_FROM;
  const [rowPx, setRowPx] = useState(DEFAULT_ROW_PX);
  const [range, setRange] = useState<[number, number]>([0, virtual ? 2 * MARGIN : rows.length]);

  // The spacers stand for rows of the height the drawn ones have (measured once rows are drawn).
  useLayoutEffect(() => {
    if (!virtual) return;
    const measured = ref.current?.tBodies[0]?.querySelector<HTMLElement>('tr:not(.spacer)')?.offsetHeight;
    if (measured && measured !== rowPx) setRowPx(measured);
  });

  // Follows the window's scroll and size (and the list's length) with the range in view, once a frame at most.
  useLayoutEffect(() => {
    if (!virtual) return;
    let frame = 0;
    const update = (): void => {
      frame = 0;
      const t = ref.current;
      if (!t) return;
      const next = inView(t, rows.length, rowPx);
      setRange((r) => (r[0] === next[0] && r[1] === next[1] ? r : next));
    };
    const soon = (): void => {
      frame ||= requestAnimationFrame(update);
    };
    update();
    addEventListener('scroll', soon, { passive: true });
    addEventListener('resize', soon);
    return () => {
      removeEventListener('scroll', soon);
      removeEventListener('resize', soon);
      cancelAnimationFrame(frame);
    };
  }, [virtual, rows.length, rowPx]);

  const [first, end] = virtual ? range : [0, rows.length];
  const cols = head.length;
  const spacer = (n: number, where: string) =>
    n > 0 ? html`<tr class="spacer" data-spacer=${where} aria-hidden="true" style=${`height:${n * rowPx}px`}><td colspan=${cols}></td></tr>` : null;
  return html`<table class=${virtual ? 'list virtual' : 'list'} id=${id} ref=${ref} data-total=${rows.length} aria-rowcount=${rows.length + 1}>
    <thead><tr>${head.map((h) => html`<th style=${virtual && h.width ? `width:${h.width}` : undefined}>${h.title}</th>`)}</tr></thead>
    <tbody>
      ${spacer(first, 'above')}
      ${rows.slice(first, end).map((item) => html`<${Row} key=${keyOf(item)} item=${item} extra=${extraOf?.(item)} render=${row} />`)}
      ${spacer(rows.length - end, 'below')}
    </tbody>
  </table>`;
}
