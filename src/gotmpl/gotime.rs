//! Go's time formatting: reference-time layouts (`2006-01-02 15:04:05`),
//! `Time.String()` and `Duration.String()`.

use super::value::Time;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Civil date from days since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    yday: u32,
    wday: usize,
    hour: u32,
    min: u32,
    sec: u32,
}

fn civil(t: &Time) -> Civil {
    let local = t.unix.saturating_add(i64::from(t.offset));
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let mut yday = CUM[(month - 1) as usize] + day;
    if month > 2 && is_leap(year) {
        yday += 1;
    }
    Civil {
        year,
        month,
        day,
        yday,
        wday: (days + 4).rem_euclid(7) as usize,
        hour: secs / 3600,
        min: secs / 60 % 60,
        sec: secs % 60,
    }
}

fn pad_int(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
    }
    let s = v.unsigned_abs().to_string();
    for _ in s.len()..width {
        out.push('0');
    }
    out.push_str(&s);
}

enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    Pm(bool),
    Tz,
    /// ISO (Z for UTC), with colons, with seconds, hours only.
    NumTz {
        iso: bool,
        colon: bool,
        secs: bool,
        hours_only: bool,
    },
    /// Separator, digit count, trim trailing zeros.
    Frac(char, usize, bool),
}

/// Splits the layout at its next reference-time element.
fn next_std(layout: &str) -> (&str, Option<(Std, usize, usize)>) {
    let b = layout.as_bytes();
    let has = |i: usize, s: &str| layout[i..].starts_with(s);
    for i in 0..b.len() {
        let std = match b[i] {
            b'J' if has(i, "January") => Some((Std::LongMonth, 7)),
            b'J' if has(i, "Jan") => Some((Std::Month, 3)),
            b'M' if has(i, "Monday") => Some((Std::LongWeekDay, 6)),
            b'M' if has(i, "Mon") => Some((Std::WeekDay, 3)),
            b'M' if has(i, "MST") => Some((Std::Tz, 3)),
            b'0' if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) => Some((
                match b[i + 1] {
                    b'1' => Std::ZeroMonth,
                    b'2' => Std::ZeroDay,
                    b'3' => Std::ZeroHour12,
                    b'4' => Std::ZeroMinute,
                    b'5' => Std::ZeroSecond,
                    _ => Std::Year,
                },
                2,
            )),
            b'0' if has(i, "002") => Some((Std::ZeroYearDay, 3)),
            b'1' if has(i, "15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if has(i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            b'_' if has(i, "_2006") => {
                // A literal underscore, then the year.
                return (&layout[..=i], Some((Std::LongYear, i + 1, 4)));
            }
            b'_' if has(i, "_2") => Some((Std::UnderDay, 2)),
            b'_' if has(i, "__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if has(i, "PM") => Some((Std::Pm(true), 2)),
            b'p' if has(i, "pm") => Some((Std::Pm(false), 2)),
            c @ (b'-' | b'Z') => {
                let iso = c == b'Z';
                let rest = &layout[i + 1..];
                if rest.starts_with("070000") {
                    Some((
                        Std::NumTz {
                            iso,
                            colon: false,
                            secs: true,
                            hours_only: false,
                        },
                        7,
                    ))
                } else if rest.starts_with("07:00:00") {
                    Some((
                        Std::NumTz {
                            iso,
                            colon: true,
                            secs: true,
                            hours_only: false,
                        },
                        9,
                    ))
                } else if rest.starts_with("0700") {
                    Some((
                        Std::NumTz {
                            iso,
                            colon: false,
                            secs: false,
                            hours_only: false,
                        },
                        5,
                    ))
                } else if rest.starts_with("07:00") {
                    Some((
                        Std::NumTz {
                            iso,
                            colon: true,
                            secs: false,
                            hours_only: false,
                        },
                        6,
                    ))
                } else if rest.starts_with("07") {
                    Some((
                        Std::NumTz {
                            iso,
                            colon: false,
                            secs: false,
                            hours_only: true,
                        },
                        3,
                    ))
                } else {
                    None
                }
            }
            c @ (b'.' | b',') if i + 1 < b.len() && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    None
                } else {
                    Some((Std::Frac(c as char, j - (i + 1), ch == b'9'), j - i))
                }
            }
            _ => None,
        };
        if let Some((s, len)) = std {
            return (&layout[..i], Some((s, i, len)));
        }
    }
    (layout, None)
}

/// `Time.Format(layout)`.
pub(crate) fn format(t: &Time, layout: &str) -> String {
    let c = civil(t);
    let mut out = String::with_capacity(layout.len() + 8);
    let mut rest = layout;
    while !rest.is_empty() {
        let (prefix, std) = next_std(rest);
        out.push_str(prefix);
        let Some((std, start, len)) = std else { break };
        rest = &rest[start + len..];
        match std {
            Std::LongMonth => out.push_str(MONTHS[(c.month - 1) as usize]),
            Std::Month => out.push_str(&MONTHS[(c.month - 1) as usize][..3]),
            Std::NumMonth => pad_int(&mut out, i64::from(c.month), 0),
            Std::ZeroMonth => pad_int(&mut out, i64::from(c.month), 2),
            Std::LongWeekDay => out.push_str(DAYS[c.wday]),
            Std::WeekDay => out.push_str(&DAYS[c.wday][..3]),
            Std::Day => pad_int(&mut out, i64::from(c.day), 0),
            Std::UnderDay => {
                if c.day < 10 {
                    out.push(' ');
                }
                pad_int(&mut out, i64::from(c.day), 0);
            }
            Std::ZeroDay => pad_int(&mut out, i64::from(c.day), 2),
            Std::UnderYearDay => {
                if c.yday < 100 {
                    out.push(' ');
                    if c.yday < 10 {
                        out.push(' ');
                    }
                }
                pad_int(&mut out, i64::from(c.yday), 0);
            }
            Std::ZeroYearDay => pad_int(&mut out, i64::from(c.yday), 3),
            Std::Hour => pad_int(&mut out, i64::from(c.hour), 2),
            Std::Hour12 | Std::ZeroHour12 => {
                let h = match c.hour % 12 {
                    0 => 12,
                    h => h,
                };
                pad_int(
                    &mut out,
                    i64::from(h),
                    if matches!(std, Std::ZeroHour12) { 2 } else { 0 },
                );
            }
            Std::Minute => pad_int(&mut out, i64::from(c.min), 0),
            Std::ZeroMinute => pad_int(&mut out, i64::from(c.min), 2),
            Std::Second => pad_int(&mut out, i64::from(c.sec), 0),
            Std::ZeroSecond => pad_int(&mut out, i64::from(c.sec), 2),
            Std::LongYear => pad_int(&mut out, c.year, 4),
            Std::Year => pad_int(&mut out, c.year.rem_euclid(100), 2),
            Std::Pm(upper) => out.push_str(match (c.hour >= 12, upper) {
                (true, true) => "PM",
                (false, true) => "AM",
                (true, false) => "pm",
                (false, false) => "am",
            }),
            Std::Tz => {
                if t.zone.is_empty() {
                    let m = t.offset / 60;
                    out.push(if m < 0 { '-' } else { '+' });
                    let m = m.unsigned_abs();
                    pad_int(&mut out, i64::from(m / 60), 2);
                    pad_int(&mut out, i64::from(m % 60), 2);
                } else {
                    out.push_str(&t.zone);
                }
            }
            Std::NumTz {
                iso,
                colon,
                secs,
                hours_only,
            } => {
                if iso && t.offset == 0 {
                    out.push('Z');
                    continue;
                }
                let off = t.offset;
                out.push(if off < 0 { '-' } else { '+' });
                let a = off.unsigned_abs();
                pad_int(&mut out, i64::from(a / 3600), 2);
                if !hours_only {
                    if colon {
                        out.push(':');
                    }
                    pad_int(&mut out, i64::from(a / 60 % 60), 2);
                    if secs {
                        if colon {
                            out.push(':');
                        }
                        pad_int(&mut out, i64::from(a % 60), 2);
                    }
                }
            }
            Std::Frac(sep, n, trim) => {
                let digits = format!("{:09}", t.nanos);
                let mut d = &digits[..n.min(9)];
                if trim {
                    d = d.trim_end_matches('0');
                    if d.is_empty() {
                        continue;
                    }
                }
                out.push(sep);
                out.push_str(d);
                for _ in 9..n {
                    out.push('0');
                }
            }
        }
    }
    out
}

/// `Time.String()` (without the monotonic clock reading Go appends to
/// values from `now`).
pub(crate) fn time_string(t: &Time) -> String {
    format(t, "2006-01-02 15:04:05.999999999 -0700 MST")
}

/// `time.Duration(ns).String()`.
pub(crate) fn duration_string(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if u < 1_000_000_000 {
        // Sub-second: ns, µs or ms with a fraction.
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac(u, div));
        out.push_str(unit);
        return out;
    }
    let secs_total = u / 1_000_000_000;
    let h = secs_total / 3600;
    let m = secs_total / 60 % 60;
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    let s_ns = u % 60_000_000_000;
    out.push_str(&frac(s_ns, 1_000_000_000));
    out.push('s');
    out
}

fn frac(v: u64, div: u64) -> String {
    let whole = v / div;
    let rem = v % div;
    if rem == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let f = format!("{rem:0width$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}
