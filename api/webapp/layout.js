// Where blocks go in a day column. Pure: the unit tests call these directly.

/**
 * Cuts items ({start, end} in ms) at day boundaries. `bounds` are the instants where each day
 * begins, plus where the last one ends (8 for a week). Returns, per day, pieces
 * {item, from, to} in minutes since that day's start.
 */
export function piecesByDay(items, bounds) {
  const days = bounds.slice(0, -1).map(() => []);
  for (const item of items) {
    for (let i = 0; i < days.length; i++) {
      const s = Math.max(item.start, bounds[i]);
      const e = Math.min(item.end, bounds[i + 1]);
      if (s < e || (item.start === item.end && item.start >= bounds[i] && item.start < bounds[i + 1])) {
        days[i].push({item, from: (s - bounds[i]) / 60000, to: (Math.max(e, s) - bounds[i]) / 60000});
      }
    }
  }
  return days;
}

/**
 * Side-by-side lanes for overlapping pieces ({from, to}): each cluster of pieces that overlap one
 * another (directly or through a chain) shares its width; a piece takes the first lane free at
 * its start. Returns the pieces with `lane` and `lanes` (the cluster's lane count), in order.
 */
export function lanes(pieces, minLength = 0) {
  const sorted = [...pieces].sort((a, b) => a.from - b.from || b.to - a.to);
  const out = [];
  let cluster = [];
  let laneEnds = [];
  let clusterEnd = -Infinity;
  const close = () => { for (const p of cluster) p.lanes = laneEnds.length; cluster = []; laneEnds = []; };
  for (const piece of sorted) {
    // A very short block is drawn taller than it lasts; it occupies what is drawn.
    const to = Math.max(piece.to, piece.from + minLength);
    if (piece.from >= clusterEnd) close();
    let lane = laneEnds.findIndex((end) => end <= piece.from);
    if (lane === -1) { lane = laneEnds.length; laneEnds.push(to); } else laneEnds[lane] = to;
    const placed = {...piece, lane, lanes: 0};
    cluster.push(placed);
    out.push(placed);
    clusterEnd = Math.max(clusterEnd, to);
  }
  close();
  return out;
}

/** Black or white text, whichever reads better on `hex` (WCAG relative luminance). */
export function textOn(hex) {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex || '');
  if (!m) return '#111';
  const n = parseInt(m[1], 16);
  const lin = (c) => { const v = c / 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const l = 0.2126 * lin(n >> 16) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? '#111' : '#fff';
}
