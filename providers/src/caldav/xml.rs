//! WebDAV multistatus answers (RFC 4918 §13) as CalDAV servers write them, read with a real XML
//! parser (quick-xml, namespace-aware): every name is matched by its namespace, never by the
//! prefix a server happened to choose.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const CALSERVER: &str = "http://calendarserver.org/ns/";
pub const APPLE: &str = "http://apple.com/ns/ical/";

/// One property of a response, with what its content holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prop {
    pub ns: String,
    pub name: String,
    /// Its text (outside nested `DAV:href`s), trimmed.
    pub text: String,
    /// Nested `DAV:href`s (`current-user-principal`, `calendar-home-set`).
    pub hrefs: Vec<String>,
    /// Nested elements by (namespace, name) (`resourcetype`'s `collection`, `calendar`).
    pub children: Vec<(String, String)>,
    /// The `name` attributes of nested `CALDAV:comp`s (`supported-calendar-component-set`).
    pub components: Vec<String>,
}

/// One `DAV:response`: its href, the status it carries itself (a member gone from a
/// sync-collection answer), and the properties found (those of 2xx propstats only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub href: String,
    pub status: Option<u16>,
    pub props: Vec<Prop>,
}

impl Response {
    pub fn prop(&self, ns: &str, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.ns == ns && p.name == name)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Multistatus {
    pub responses: Vec<Response>,
    /// `DAV:sync-token` of a sync-collection answer.
    pub sync_token: Option<String>,
}

/// `HTTP/1.1 404 Not Found` → 404.
fn status_code(text: &str) -> Option<u16> {
    text.split_whitespace().nth(1)?.parse().ok()
}

/// Where the reader is inside a response.
#[derive(Default)]
struct Open {
    response: Option<Response>,
    /// The propstat being read: its properties, and its status once read.
    propstat: Option<(Vec<Prop>, Option<u16>)>,
    /// The property being read, and how deep below it the reader is.
    prop: Option<(Prop, usize)>,
}

pub fn parse(body: &str) -> Result<Multistatus, String> {
    let mut reader = NsReader::from_str(body);
    reader.config_mut().trim_text(true);
    let mut out = Multistatus::default();
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut open = Open::default();
    let mut rooted = false;
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("not XML: {e}"))?;
        let ns = match &resolved {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            _ => String::new(),
        };
        match event {
            Event::Start(e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let component = component_name(&e);
                start(&mut open, &stack, &ns, &local, component);
                stack.push((ns, local));
            }
            Event::Empty(e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let component = component_name(&e);
                start(&mut open, &stack, &ns, &local, component);
                stack.push((ns, local));
                let (ns, local) = stack.pop().expect("just pushed");
                end(&mut open, &mut out, &stack, &ns, &local);
            }
            Event::End(_) => {
                let Some((ns, local)) = stack.pop() else {
                    return Err("unbalanced XML".into());
                };
                end(&mut open, &mut out, &stack, &ns, &local);
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| format!("bad text: {e}"))?;
                text_in(&mut open, &mut out, &stack, &text);
            }
            Event::CData(c) => {
                let text = String::from_utf8_lossy(&c).into_owned();
                text_in(&mut open, &mut out, &stack, &text);
            }
            Event::Eof => break,
            _ => {}
        }
        if stack.len() == 1 {
            if stack[0] != (DAV.to_owned(), "multistatus".to_owned()) {
                return Err("not a WebDAV multistatus".into());
            }
            rooted = true;
        }
    }
    if !rooted {
        return Err("not a WebDAV multistatus".into());
    }
    Ok(out)
}

/// The `name` attribute of a `CALDAV:comp`.
fn component_name(e: &quick_xml::events::BytesStart<'_>) -> Option<String> {
    if e.local_name().as_ref() != b"comp" {
        return None;
    }
    let attr = e.try_get_attribute("name").ok().flatten()?;
    attr.unescape_value().ok().map(|v| v.into_owned())
}

fn is(name: &(String, String), ns: &str, local: &str) -> bool {
    name.0 == ns && name.1 == local
}

fn start(
    open: &mut Open,
    stack: &[(String, String)],
    ns: &str,
    local: &str,
    component: Option<String>,
) {
    let parent = stack.last();
    if let Some((prop, depth)) = open.prop.as_mut() {
        *depth += 1;
        if *depth == 1 {
            prop.children.push((ns.to_owned(), local.to_owned()));
        }
        if ns == CALDAV
            && local == "comp"
            && let Some(name) = component
        {
            prop.components.push(name);
        }
        return;
    }
    match parent {
        Some(p) if is(p, DAV, "multistatus") && ns == DAV && local == "response" => {
            open.response = Some(Response::default());
        }
        Some(p) if is(p, DAV, "response") && ns == DAV && local == "propstat" => {
            open.propstat = Some((Vec::new(), None));
        }
        Some(p) if is(p, DAV, "prop") && open.propstat.is_some() => {
            open.prop = Some((
                Prop {
                    ns: ns.to_owned(),
                    name: local.to_owned(),
                    ..Prop::default()
                },
                0,
            ));
        }
        _ => {}
    }
}

fn end(open: &mut Open, out: &mut Multistatus, stack: &[(String, String)], ns: &str, local: &str) {
    if let Some((prop, depth)) = open.prop.as_mut() {
        if *depth > 0 {
            *depth -= 1;
            return;
        }
        prop.text = prop.text.trim().to_owned();
        let prop = open.prop.take().expect("a property is open").0;
        if let Some((props, _)) = open.propstat.as_mut() {
            props.push(prop);
        }
        return;
    }
    let _ = stack;
    match (ns, local) {
        (DAV, "propstat") => {
            if let (Some((props, status)), Some(response)) =
                (open.propstat.take(), open.response.as_mut())
                && status.is_none_or(|s| (200..300).contains(&s))
            {
                response.props.extend(props);
            }
        }
        (DAV, "response") => {
            if let Some(response) = open.response.take() {
                out.responses.push(response);
            }
        }
        _ => {}
    }
}

fn text_in(open: &mut Open, out: &mut Multistatus, stack: &[(String, String)], text: &str) {
    let Some(here) = stack.last() else {
        return;
    };
    if let Some((prop, depth)) = open.prop.as_mut() {
        if *depth > 0 && is(here, DAV, "href") {
            prop.hrefs.push(text.trim().to_owned());
        } else {
            prop.text.push_str(text);
        }
        return;
    }
    let parent = stack.len().checked_sub(2).map(|i| &stack[i]);
    match parent {
        Some(p) if is(p, DAV, "response") => {
            if let Some(response) = open.response.as_mut() {
                if is(here, DAV, "href") {
                    response.href.push_str(text.trim());
                } else if is(here, DAV, "status") {
                    response.status = status_code(text);
                }
            }
        }
        Some(p) if is(p, DAV, "propstat") && is(here, DAV, "status") => {
            if let Some((_, status)) = open.propstat.as_mut() {
                *status = status_code(text);
            }
        }
        Some(p) if is(p, DAV, "multistatus") && is(here, DAV, "sync-token") => {
            out.sync_token = Some(text.trim().to_owned());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_props_by_namespace_whatever_the_prefixes() {
        let body = r#"<?xml version="1.0"?>
<x:multistatus xmlns:x="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav" xmlns:ic="http://apple.com/ns/ical/">
  <x:response>
    <x:href>/dav/ada/work/</x:href>
    <x:propstat>
      <x:prop>
        <x:resourcetype><x:collection/><cal:calendar/></x:resourcetype>
        <x:displayname>Work &amp; more</x:displayname>
        <ic:calendar-color>#FF2968FF</ic:calendar-color>
        <cal:supported-calendar-component-set><cal:comp name="VEVENT"/><cal:comp name="VTODO"/></cal:supported-calendar-component-set>
        <x:current-user-principal><x:href>/dav/ada/</x:href></x:current-user-principal>
      </x:prop>
      <x:status>HTTP/1.1 200 OK</x:status>
    </x:propstat>
    <x:propstat>
      <x:prop><x:getctag/></x:prop>
      <x:status>HTTP/1.1 404 Not Found</x:status>
    </x:propstat>
  </x:response>
  <x:response><x:href>/dav/ada/work/gone.ics</x:href><x:status>HTTP/1.1 404 Not Found</x:status></x:response>
  <x:sync-token>http://radicale/sync/42</x:sync-token>
</x:multistatus>"#;
        let m = parse(body).unwrap();
        assert_eq!(m.sync_token.as_deref(), Some("http://radicale/sync/42"));
        assert_eq!(m.responses.len(), 2);
        let r = &m.responses[0];
        assert_eq!(r.href, "/dav/ada/work/");
        assert_eq!(r.prop(DAV, "displayname").unwrap().text, "Work & more");
        assert_eq!(r.prop(APPLE, "calendar-color").unwrap().text, "#FF2968FF");
        assert!(
            r.prop(DAV, "resourcetype")
                .unwrap()
                .children
                .contains(&(CALDAV.into(), "calendar".into()))
        );
        assert_eq!(
            r.prop(CALDAV, "supported-calendar-component-set")
                .unwrap()
                .components,
            ["VEVENT", "VTODO"]
        );
        assert_eq!(
            r.prop(DAV, "current-user-principal").unwrap().hrefs,
            ["/dav/ada/"]
        );
        assert!(
            r.prop(DAV, "getctag").is_none(),
            "a 404 propstat is not a property"
        );
        assert_eq!(m.responses[1].status, Some(404));
    }

    #[test]
    fn calendar_data_keeps_its_text() {
        let body = "<d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:response><d:href>/a.ics</d:href><d:propstat><d:prop><d:getetag>\"1\"</d:getetag><c:calendar-data>BEGIN:VCALENDAR\r\nSUMMARY:Tom &amp; Jerry\r\nEND:VCALENDAR\r\n</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>";
        let m = parse(body).unwrap();
        let data = &m.responses[0].prop(CALDAV, "calendar-data").unwrap().text;
        assert!(data.contains("SUMMARY:Tom & Jerry"), "{data}");
        assert_eq!(m.responses[0].prop(DAV, "getetag").unwrap().text, "\"1\"");
    }

    #[test]
    fn html_is_not_a_multistatus() {
        assert!(parse("<html><body>hi</body></html>").is_err());
        assert!(parse("not xml at all").is_err());
        assert!(parse("").is_err());
    }
}
