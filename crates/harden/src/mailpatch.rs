//! `--patch-dir` files in the form `git format-patch` writes: an mbox `From` line, `From:`,
//! `Date:` and `Subject: [PATCH n/m]` headers, the commit message as the body, `---`, a diffstat
//! and the diff. `git am` reads the headers and message (keeping author and message), and
//! `git apply` skips everything before the first `diff --git`.
//!
//! The format is git's mbox format as described in `git help format-patch` and read by
//! `git mailinfo`: the line after `---` ends the message, `[PATCH n/m]` is stripped from the
//! subject, non-ASCII header text is RFC 2047 encoded.

use std::path::Path;

use harden_transforms::FileChange;

/// The first line of every patch. `git format-patch --zero-commit` writes an all-zero commit
/// (harden's patches have no commit yet); the date is git's fixed mbox marker.
const MBOX_FROM: &str = "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001";

/// Who and when, for the `From:` and `Date:` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ident {
    /// `Name <email>`.
    pub name_email: String,
    /// Seconds since 1970-01-01 UTC.
    pub seconds: i64,
    /// The time zone as git writes it: `+0100`.
    pub zone: String,
}

impl Ident {
    /// Reads `Name <email> 1700000000 +0100` (what `git var GIT_AUTHOR_IDENT` prints).
    pub(crate) fn parse(text: &str) -> Option<Ident> {
        let mut parts = text.trim().rsplitn(3, ' ');
        let zone = parts.next()?;
        let seconds = parts.next()?.parse().ok()?;
        let name_email = parts.next()?;
        let zone_ok = zone.len() == 5
            && zone.starts_with(['+', '-'])
            && zone[1..].bytes().all(|b| b.is_ascii_digit());
        (zone_ok && name_email.ends_with('>')).then(|| Ident {
            name_email: name_email.to_owned(),
            seconds,
            zone: zone.to_owned(),
        })
    }
}

/// One patch of a series: `n` of `total` (1-based).
pub(crate) struct Part<'a> {
    /// Position in the series.
    pub n: usize,
    /// Patches in the series.
    pub total: usize,
    /// The full commit message: subject line, blank line, body.
    pub message: &'a str,
    /// The changes.
    pub changes: &'a [FileChange],
}

/// The text of one patch file.
pub(crate) fn patch_file(part: &Part<'_>, author: &Ident, root: &Path) -> String {
    let (subject, body) = match part.message.split_once('\n') {
        Some((s, rest)) => (s, rest.trim_start_matches('\n')),
        None => (part.message, ""),
    };
    let numbering = if part.total > 1 {
        format!("[PATCH {}/{}]", part.n, part.total)
    } else {
        "[PATCH]".to_owned()
    };
    let mut out = String::new();
    out.push_str(MBOX_FROM);
    out.push('\n');
    out.push_str(&format!("From: {}\n", from_header(&author.name_email)));
    out.push_str(&format!(
        "Date: {}\n",
        rfc2822_date(author.seconds, &author.zone)
    ));
    let subject = crate::escape::commit_line(subject);
    out.push_str(&format!("Subject: {numbering} {}\n", encode_word(&subject)));
    out.push_str("MIME-Version: 1.0\n");
    out.push_str("Content-Type: text/plain; charset=UTF-8\n");
    out.push_str("Content-Transfer-Encoding: 8bit\n\n");
    let body = crate::escape::commit_message(body);
    if !body.is_empty() {
        out.push_str(&body);
        if !body.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str("---\n");
    out.push_str(&diffstat(part.changes, root));
    out.push('\n');
    out.push_str(&crate::gitops::patch_text(part.changes, root));
    out.push_str(&format!("-- \nharden {}\n\n", env!("CARGO_PKG_VERSION")));
    out
}

/// ` path | 4 ++--` per file, then the totals, then `create mode` lines, as git prints them.
fn diffstat(changes: &[FileChange], root: &Path) -> String {
    let rows: Vec<(String, usize, usize)> = changes
        .iter()
        .map(|c| {
            let diff = crate::report::line_diff(c.before.as_deref().unwrap_or(""), &c.after);
            let (mut ins, mut del) = (0, 0);
            for op in diff.ops() {
                for change in diff.iter_changes(op) {
                    match change.tag() {
                        similar::ChangeTag::Insert => ins += 1,
                        similar::ChangeTag::Delete => del += 1,
                        similar::ChangeTag::Equal => {}
                    }
                }
            }
            let name = crate::gitops::relative_to_root(&c.path, root);
            (crate::escape::text(&name).into_owned(), ins, del)
        })
        .collect();
    let name_width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let most = rows.iter().map(|r| r.1 + r.2).max().unwrap_or(0);
    let count_width = most.to_string().len();
    let mut out = String::new();
    for (name, ins, del) in &rows {
        // Bars scaled to at most 40 characters, as git does for wide changes.
        let (plus, minus) = if most > 40 {
            (
                (ins * 40).div_ceil(most).min(*ins),
                (del * 40).div_ceil(most).min(*del),
            )
        } else {
            (*ins, *del)
        };
        out.push_str(&format!(
            " {name:<name_width$} | {:>count_width$} {}{}\n",
            ins + del,
            "+".repeat(plus),
            "-".repeat(minus)
        ));
    }
    let (ins, del): (usize, usize) = rows.iter().fold((0, 0), |a, r| (a.0 + r.1, a.1 + r.2));
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    out.push_str(&format!(
        " {}, {}, {}\n",
        plural(rows.len(), "file changed", "files changed"),
        plural(ins, "insertion(+)", "insertions(+)"),
        plural(del, "deletion(-)", "deletions(-)")
    ));
    for c in changes.iter().filter(|c| c.before.is_none()) {
        out.push_str(&format!(
            " create mode 100644 {}\n",
            crate::escape::text(&crate::gitops::relative_to_root(&c.path, root))
        ));
    }
    out
}

/// `Name <email>` for the `From:` header: a name with non-ASCII text is RFC 2047 encoded, one
/// with RFC 5322 specials is quoted (as `git format-patch` does).
fn from_header(name_email: &str) -> String {
    let Some((name, email)) = name_email.rsplit_once(" <") else {
        return name_email.to_owned();
    };
    let name = if !name.is_ascii() {
        encode_word(name)
    } else if name.contains([
        '(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '.', '"',
    ]) {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        name.to_owned()
    };
    format!("{name} <{email}")
}

/// Text for a header: as it is when ASCII, else one RFC 2047 `=?UTF-8?q?…?=` encoded word.
fn encode_word(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut out = String::from("=?UTF-8?q?");
    for b in text.bytes() {
        match b {
            b' ' => out.push('_'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'*' | b'+' | b'-' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("={b:02X}")),
        }
    }
    out.push_str("?=");
    out
}

/// `Mon, 30 Nov 2026 11:34:05 +0000`: `seconds` shown in the time zone `zone` (`+hhmm`).
pub(crate) fn rfc2822_date(seconds: i64, zone: &str) -> String {
    let digits = |r: std::ops::Range<usize>| zone.get(r).and_then(|s| s.parse::<i64>().ok());
    let offset_minutes = match (digits(1..3), digits(3..5)) {
        (Some(h), Some(m)) if zone.starts_with('-') => -(h * 60 + m),
        (Some(h), Some(m)) => h * 60 + m,
        _ => 0,
    };
    let local = seconds + offset_minutes * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = WEEKDAYS[days.rem_euclid(7) as usize];
    let month_name = MONTHS[(month - 1) as usize];
    let zone = if offset_minutes == 0 && zone.len() != 5 {
        "+0000"
    } else {
        zone
    };
    format!(
        "{weekday}, {day} {month_name} {year} {:02}:{:02}:{:02} {zone}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Year, month (1-12) and day of the day `days` after 1970-01-01 (proleptic Gregorian
/// calendar; the era-based conversion published by Howard Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms").
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_git_writes_them() {
        assert_eq!(rfc2822_date(0, "+0000"), "Thu, 1 Jan 1970 00:00:00 +0000");
        // `git log -1 --date=rfc2822` of a commit made at 1796038540 +0000.
        assert_eq!(
            rfc2822_date(1_796_038_540, "+0000"),
            "Mon, 30 Nov 2026 11:35:40 +0000"
        );
        assert_eq!(
            rfc2822_date(1_709_164_800, "-0130"),
            "Wed, 28 Feb 2024 22:30:00 -0130"
        );
        assert_eq!(
            rfc2822_date(1_709_251_199, "+0000"),
            "Thu, 29 Feb 2024 23:59:59 +0000"
        );
    }

    #[test]
    fn identities_from_git_var() {
        let id = Ident::parse("A B <a@b.example> 1700000000 +0100\n").expect("valid");
        assert_eq!(id.name_email, "A B <a@b.example>");
        assert_eq!((id.seconds, id.zone.as_str()), (1_700_000_000, "+0100"));
        assert_eq!(Ident::parse("nobody"), None);
    }

    #[test]
    fn header_text_is_encoded_when_needed() {
        assert_eq!(from_header("A B <a@b>"), "A B <a@b>");
        assert_eq!(from_header("Doe, J. <a@b>"), "\"Doe, J.\" <a@b>");
        assert_eq!(from_header("José <a@b>"), "=?UTF-8?q?Jos=C3=A9?= <a@b>");
        assert_eq!(encode_word("ci: ✓ x"), "=?UTF-8?q?ci=3A_=E2=9C=93_x?=");
    }
}
