//! Matching a REST call (`gh api`, `curl`, `github.request`) to `rest-endpoints.yml`.

use super::kb::{Endpoint, Kb};

/// Repository placeholders written in calls, replaced by `{owner}/{repo}`.
const REPOSITORY_FORMS: &[&str] = &[
    "${{github.repository}}",
    "${{ github.repository }}",
    "${GITHUB_REPOSITORY}",
    "$GITHUB_REPOSITORY",
    "$env:GITHUB_REPOSITORY",
    "%GITHUB_REPOSITORY%",
    ":owner/:repo",
];

/// The path of a call, from a URL or a `gh api` argument: host, API-root variables, query
/// and fragment removed; repository placeholders normalised.
pub(crate) fn normalise_path(raw: &str) -> String {
    let mut p = raw.trim().trim_matches(['"', '\'']).to_owned();
    for host in ["api.github.com", "uploads.github.com"] {
        if let Some(i) = p.find(host) {
            p = p[i + host.len()..].to_owned();
        }
    }
    for root in [
        "${{ github.api_url }}",
        "${{github.api_url}}",
        "${GITHUB_API_URL}",
        "$GITHUB_API_URL",
        "$env:GITHUB_API_URL",
        "%GITHUB_API_URL%",
    ] {
        if let Some(i) = p.find(root) {
            p = p[i + root.len()..].to_owned();
        }
    }
    if let Some(i) = p.find(['?', '#']) {
        p.truncate(i);
    }
    for form in REPOSITORY_FORMS {
        p = p.replace(form, "{owner}/{repo}");
    }
    let trimmed = p.trim_matches('/');
    format!("/{trimmed}")
}

fn is_variable(segment: &str) -> bool {
    segment.contains(['$', '{', '%', '<']) || segment.starts_with(':')
}

/// The endpoints a call with `method` on `path` (normalised) can be: the best literal match,
/// or every equally good match when variables leave it open. Empty when none fits.
pub(crate) fn match_endpoint<'k>(kb: &'k Kb, method: &str, path: &str) -> Vec<&'k Endpoint> {
    let method = match method.to_ascii_uppercase().as_str() {
        "HEAD" => "GET".to_owned(),
        m => m.to_owned(),
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut candidates = vec![segs.clone()];
    // `repos/$REPO/...`: one variable may stand for `owner/repo`.
    if segs.len() >= 2 && segs[0] == "repos" && segs[1].contains(['$', '%']) {
        let mut split = vec!["repos", "{owner}", "{repo}"];
        split.extend_from_slice(&segs[2..]);
        candidates.push(split);
    }
    let mut best: Vec<&Endpoint> = Vec::new();
    let mut best_score = 0usize;
    for segs in &candidates {
        best_of(kb, &method, segs, &mut best, &mut best_score);
    }
    best
}

fn best_of<'k>(
    kb: &'k Kb,
    method: &str,
    segs: &[&str],
    best: &mut Vec<&'k Endpoint>,
    best_score: &mut usize,
) {
    for e in kb.rest.iter().filter(|e| e.method == method) {
        let data: Vec<&str> = e.path.split('/').filter(|s| !s.is_empty()).collect();
        if data.len() != segs.len() {
            continue;
        }
        let mut score = 1;
        let mut ok = true;
        for (d, s) in data.iter().zip(segs) {
            // A placeholder takes anything; a variable only stands for a placeholder.
            if d.contains('{') {
                continue;
            }
            if is_variable(s) {
                ok = false;
                break;
            }
            if d.eq_ignore_ascii_case(s) {
                score += 1;
            } else {
                ok = false;
                break;
            }
        }
        if !ok {
            continue;
        }
        if score > *best_score {
            *best_score = score;
            best.clear();
        }
        if score == *best_score && !best.contains(&e) {
            best.push(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::kb::kb;

    fn names(method: &str, raw: &str) -> Vec<String> {
        let Ok(kb) = kb() else { panic!("kb") };
        match_endpoint(kb, method, &normalise_path(raw))
            .iter()
            .map(|e| e.name.clone())
            .collect()
    }

    #[test]
    fn matches_paths_with_placeholders_and_variables() {
        assert_eq!(
            names("POST", "repos/{owner}/{repo}/issues/123/comments"),
            vec!["issues.createComment"]
        );
        assert_eq!(
            names(
                "GET",
                "https://api.github.com/repos/$GITHUB_REPOSITORY/releases/latest"
            ),
            vec!["repos.getLatestRelease"]
        );
        assert_eq!(
            names(
                "DELETE",
                "/repos/${{ github.repository }}/actions/caches?key=x"
            ),
            vec!["actions.deleteActionsCacheByKey"]
        );
        assert_eq!(
            names("POST", "${GITHUB_API_URL}/repos/o/r/statuses/${SHA}"),
            vec!["repos.createCommitStatus"]
        );
        assert!(names("GET", "repos/o/r/unknown/thing").is_empty());
        assert!(names("GET", "repos/{owner}/{repo}/frobs").is_empty());
        assert!(names("GET", "repos/o/r/$WHAT").is_empty());
        assert_eq!(names("GET", "repos/${REPO}/pulls/${PR}"), vec!["pulls.get"]);
        assert_eq!(
            names("GET", "/repos/$REPO/actions/runs"),
            vec!["actions.listWorkflowRunsForRepo"]
        );
    }
}
