//! The one trait every provider client implements.

use async_trait::async_trait;

use crate::ProviderError;
use crate::model::{ChangePage, Credential, Identity, RemoteCalendar, SyncRequest};

#[async_trait]
pub trait CalendarSource: Send + Sync {
    /// Who the credential belongs to.
    async fn identity(&self, credential: Credential<'_>) -> Result<Identity, ProviderError>;

    /// The calendars the account can read.
    async fn calendars(
        &self,
        credential: Credential<'_>,
    ) -> Result<Vec<RemoteCalendar>, ProviderError>;

    /// One page of a sync round: everything in a window (`Full`), changes since a stored
    /// cursor (`Since`), or the page after the previous one (`Page`).
    async fn changes(
        &self,
        credential: Credential<'_>,
        calendar_id: &str,
        request: &SyncRequest,
    ) -> Result<ChangePage, ProviderError>;
}

/// Every page of a round, for callers that want the whole listing at once.
pub async fn list_all(
    source: &dyn CalendarSource,
    credential: Credential<'_>,
    calendar_id: &str,
    first: SyncRequest,
) -> Result<(Vec<crate::Change>, Option<String>), ProviderError> {
    let window = first.window();
    let mut request = first;
    let mut changes = Vec::new();
    loop {
        let page = source.changes(credential, calendar_id, &request).await?;
        changes.extend(page.changes);
        match page.next {
            crate::Next::Page(token) => request = SyncRequest::Page { token, window },
            crate::Next::Done(cursor) => return Ok((changes, cursor)),
        }
    }
}
