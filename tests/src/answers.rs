//! Every answer the tests see through `TestApp`'s helpers is checked against the OpenAPI
//! document when the app is dropped: a status a route really gives but does not document fails
//! the test that saw it. So the document stays true to the api as the suite grows.

use std::sync::Mutex;

use utoipa::OpenApi;

/// (method, path without query, status) of each answer.
#[derive(Default)]
pub struct Answers(Mutex<Vec<(String, String, u16)>>);

impl Answers {
    pub fn record(&self, method: &str, url: &str, status: u16) {
        let path = url::Url::parse(url)
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| url.to_owned());
        self.0
            .lock()
            .unwrap()
            .push((method.to_ascii_lowercase(), path, status));
    }
}

impl Drop for Answers {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let missing = self.undocumented();
        assert!(
            missing.is_empty(),
            "answers the OpenAPI document does not list:\n{}",
            missing.join("\n")
        );
    }
}

impl Answers {
    /// The answers no document entry covers, as `METHOD path → status`.
    pub fn undocumented(&self) -> Vec<String> {
        let doc = serde_json::to_value(api::ApiDoc::openapi()).expect("the document serializes");
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        let mut missing = Vec::new();
        for (method, path, status) in self.0.lock().unwrap().iter() {
            let Some(operation) = paths
                .iter()
                .find(|(template, _)| matches(template, path))
                .and_then(|(_, item)| item.get(method.as_str()))
            else {
                // Routes outside the document (the Swagger UI) and unknown paths (the 404
                // fallback) are not the document's to describe.
                continue;
            };
            if operation["responses"].get(status.to_string()).is_none() {
                missing.push(format!("{} {path} → {status}", method.to_uppercase()));
            }
        }
        missing.sort();
        missing.dedup();
        missing
    }
}

/// Whether a concrete path fits a template such as `/api/events/{id}`.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            (t.starts_with('{') && t.ends_with('}') && !p.is_empty())
                || t == p
                || (t.contains('{') && wildcard(t, p))
        })
}

/// A segment such as `{token}.ics` or `busy.ics` with a parameter inside it.
fn wildcard(template: &str, segment: &str) -> bool {
    let (before, rest) = template.split_once('{').unwrap();
    let after = rest.split_once('}').map_or("", |(_, a)| a);
    segment.len() > before.len() + after.len()
        && segment.starts_with(before)
        && segment.ends_with(after)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn templates_match_concrete_paths() {
        assert!(matches("/api/events/{id}", "/api/events/abc"));
        assert!(!matches("/api/events/{id}", "/api/events/"));
        assert!(!matches("/api/events/{id}", "/api/events/abc/def"));
        assert!(matches("/feeds/{token}/busy.ics", "/feeds/t0k/busy.ics"));
        assert!(!matches("/feeds/{token}/busy.ics", "/feeds/t0k/full.ics"));
        assert!(matches("/api/me", "/api/me"));
    }
}
