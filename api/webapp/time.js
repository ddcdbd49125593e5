// Time in the user's zone, computed with the browser's own tz database (Intl). Pure functions:
// the unit tests call them directly. Dates are 'YYYY-MM-DD' strings, instants are milliseconds.

const formatters = new Map();
function partsFormatter(tz) {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The wall clock of `ms` in `tz`: {year, month, day, hour, minute, second, weekday (0 = Monday)}. */
export function wallClock(ms, tz) {
  const out = {};
  for (const p of partsFormatter(tz).formatToParts(new Date(ms))) out[p.type] = p.value;
  return {
    year: Number(out.year), month: Number(out.month), day: Number(out.day),
    hour: Number(out.hour) % 24, minute: Number(out.minute), second: Number(out.second),
    weekday: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(out.weekday),
  };
}

/** Minutes `tz` is ahead of UTC at `ms`. */
export function offsetMinutes(ms, tz) {
  const w = wallClock(ms, tz);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

export function parseDate(date) {
  const [y, m, d] = date.split('-').map(Number);
  return {y, m, d};
}

export function formatDate(y, m, d) {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.toISOString().slice(0, 10);
}

export function addDays(date, n) {
  const {y, m, d} = parseDate(date);
  return formatDate(y, m, d + n);
}

/** 0 = Monday … 6 = Sunday. */
export function weekdayOf(date) {
  const {y, m, d} = parseDate(date);
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

export function mondayOf(date) {
  return addDays(date, -weekdayOf(date));
}

/**
 * The instant of local `date` `hh:mm` in `tz`, the way freeslot reads working hours: a time that
 * does not exist (a DST gap) moves forward to the first instant that exists, an ambiguous one
 * (a DST fold) is the earlier instant.
 */
export function zonedInstant(date, hh, mm, tz) {
  const {y, m, d} = parseDate(date);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const offsets = new Set([-36, 0, 36].map((h) => offsetMinutes(wall + h * 3600000, tz)));
  const valid = [...offsets].map((o) => wall - o * 60000).filter((t) => offsetMinutes(t, tz) * 60000 === wall - t);
  if (valid.length) return Math.min(...valid);
  // A gap: the first instant whose wall clock is at or after the asked one.
  const wallAt = (t) => t + offsetMinutes(t, tz) * 60000;
  let lo = Math.min(...[...offsets].map((o) => wall - o * 60000));
  let hi = Math.max(...[...offsets].map((o) => wall - o * 60000));
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (wallAt(mid) >= wall) hi = mid; else lo = mid;
  }
  return hi;
}

const midnights = new Map();
/** Local midnight of `date` (or the first instant of that day, where midnight falls in a gap). */
export function startOfDay(date, tz) {
  const key = `${tz} ${date}`;
  let t = midnights.get(key);
  if (t === undefined) { t = zonedInstant(date, 0, 0, tz); midnights.set(key, t); }
  return t;
}

/** 1440, or 1380 and 1500 on the days the clocks change. */
export function dayMinutes(date, tz) {
  return Math.round((startOfDay(addDays(date, 1), tz) - startOfDay(date, tz)) / 60000);
}

export function localDate(ms, tz) {
  const w = wallClock(ms, tz);
  return formatDate(w.year, w.month, w.day);
}

/** Each instant of `date` in `tz` where a local hour begins, with that hour: a 23-hour day has 23. */
export function hourStarts(date, tz) {
  const start = startOfDay(date, tz);
  const end = startOfDay(addDays(date, 1), tz);
  const marks = [];
  if (end - start === 86400000 && offsetMinutes(start, tz) === offsetMinutes(end - 1, tz)) {
    // A plain day (24 hours from a midnight that exists, one offset): the hours begin every 60
    // minutes. (A day that begins in a gap, as in Santiago, is 23 hours long and takes the loop.)
    for (let hour = 0; start + hour * 3600000 < end; hour++) marks.push({at: start + hour * 3600000, hour});
    return marks;
  }
  // Steps of 15 minutes find every hour start, also in zones whose offsets are not whole hours.
  for (let t = start; t < end; t += 15 * 60000) {
    const w = wallClock(t, tz);
    if (w.minute === 0) marks.push({at: t, hour: w.hour});
  }
  return marks;
}

/** RFC 3339 in UTC, as the API takes it. */
export const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

const textFormats = new Map();
function textFormat(tz, options) {
  const key = tz + JSON.stringify(options);
  let f = textFormats.get(key);
  if (!f) { f = new Intl.DateTimeFormat(undefined, {timeZone: tz, ...options}); textFormats.set(key, f); }
  return f;
}

export const timeText = (ms, tz) => textFormat(tz, {hour: 'numeric', minute: '2-digit'}).format(new Date(ms));

const clockTexts = new Map();
/** The wall-clock time `minutes` after midnight as the locale writes it ("9:30 AM", "09:30"): the
 * week view's fast path for days whose offset does not change, one Intl call per distinct time. */
export function clockText(minutes) {
  let text = clockTexts.get(minutes);
  if (text === undefined) {
    text = textFormat('UTC', {hour: 'numeric', minute: '2-digit'}).format(new Date(Date.UTC(2000, 0, 1, 0, minutes)));
    clockTexts.set(minutes, text);
  }
  return text;
}
export const dateText = (ms, tz) => textFormat(tz, {weekday: 'short', day: 'numeric', month: 'short'}).format(new Date(ms));
export const dateTimeText = (ms, tz) =>
  textFormat(tz, {weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit'}).format(new Date(ms));
export const dayText = (date) =>
  textFormat('UTC', {weekday: 'short', day: 'numeric', month: 'short'}).format(new Date(`${date}T12:00:00Z`));

export function spanText(startMs, endMs, tz) {
  const sameDay = localDate(startMs, tz) === localDate(endMs - 1, tz);
  return sameDay
    ? `${dateText(startMs, tz)}, ${timeText(startMs, tz)}–${timeText(endMs, tz)}`
    : `${dateTimeText(startMs, tz)} – ${dateTimeText(endMs, tz)}`;
}

/** "5 minutes ago", for last-synced times, relative to the server's clock. */
export function ago(ms, now) {
  const s = Math.round((now - ms) / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'} ago`;
  const hours = Math.round(m / 60);
  if (hours < 36) return `${hours} hour${hours === 1 ? '' : 's'} ago`;
  const days = Math.round(hours / 24);
  return `${days} days ago`;
}
