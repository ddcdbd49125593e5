//! The OAuth 2.0 authorization-code flow with PKCE, on the `oauth2` crate, with every endpoint
//! from configuration. `oauth2`'s own client speaks reqwest 0.12; ours is 0.13, so requests go
//! through [`send`], which also turns 429 and 5xx into errors the caller can retry.

use chrono::{DateTime, Duration as TimeDelta, Utc};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use url::Url;

use crate::ProviderError;

/// A registered OAuth client and the provider endpoints it uses.
#[derive(Clone, Debug)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    pub auth_url: Url,
    pub token_url: Url,
    pub revoke_url: Option<Url>,
    pub redirect_url: Url,
    pub scopes: Vec<String>,
    /// Extra authorization parameters (Google: `access_type=offline`, `prompt=consent`).
    pub extra_params: Vec<(String, String)>,
}

/// What the browser is sent to, and what must be kept (sealed) until the callback.
pub struct AuthorizationStart {
    pub url: Url,
    pub state: String,
    pub pkce_verifier: String,
}

/// Tokens as the provider issued them.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: String,
    /// None when the provider did not rotate it (Google): keep the one you have.
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

impl OAuthApp {
    fn client(&self) -> Client {
        BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.clone()))
            .set_auth_uri(AuthUrl::from_url(self.auth_url.clone()))
            .set_token_uri(TokenUrl::from_url(self.token_url.clone()))
            .set_redirect_uri(RedirectUrl::from_url(self.redirect_url.clone()))
            // The contract: the secret travels in the form body, beside the PKCE verifier.
            .set_auth_type(AuthType::RequestBody)
    }

    /// A fresh authorization URL with a random state (128 bits) and a PKCE S256 challenge.
    pub fn start(&self) -> AuthorizationStart {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .add_scopes(self.scopes.iter().cloned().map(Scope::new));
        for (name, value) in &self.extra_params {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let (url, state) = request.url();
        AuthorizationStart {
            url,
            state: state.into_secret(),
            pkce_verifier: verifier.into_secret(),
        }
    }

    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        code: &str,
        pkce_verifier: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, ProviderError> {
        let sender = sender(http);
        let response = self
            .client()
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&sender)
            .await
            .map_err(token_error)?;
        Ok(token_set(&response, now))
    }

    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenSet, ProviderError> {
        let sender = sender(http);
        let token = RefreshToken::new(refresh_token.to_owned());
        let response = self
            .client()
            .exchange_refresh_token(&token)
            .request_async(&sender)
            .await
            .map_err(token_error)?;
        Ok(token_set(&response, now))
    }

    /// Revokes the grant where the provider has an endpoint for it; `Ok(false)` where it has none.
    ///
    /// A plain RFC 7009 form POST rather than `oauth2`'s revocation request, which refuses any
    /// endpoint that is not https (and so every local stand-in of a provider).
    pub async fn revoke(&self, http: &reqwest::Client, token: &str) -> Result<bool, ProviderError> {
        let Some(url) = &self.revoke_url else {
            return Ok(false);
        };
        let response = http
            .post(url.clone())
            .form(&[("token", token), ("client_id", self.client_id.as_str())])
            .send()
            .await?;
        crate::http::check(response).await?;
        Ok(true)
    }
}

/// `now` is when the provider answered, by the application's clock: `expires_in` counts from it.
fn token_set(response: &oauth2::basic::BasicTokenResponse, now: DateTime<Utc>) -> TokenSet {
    TokenSet {
        access_token: response.access_token().secret().clone(),
        refresh_token: response.refresh_token().map(|t| t.secret().clone()),
        expires_at: response
            .expires_in()
            .and_then(|d| TimeDelta::from_std(d).ok())
            .map(|d| now + d),
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    }
}

fn token_error(
    e: RequestTokenError<ProviderError, oauth2::basic::BasicErrorResponse>,
) -> ProviderError {
    match e {
        RequestTokenError::ServerResponse(r) => match r.error() {
            BasicErrorResponseType::InvalidGrant => ProviderError::InvalidGrant(
                r.error_description()
                    .cloned()
                    .unwrap_or_else(|| "invalid_grant".into()),
            ),
            other => ProviderError::Rejected(other.to_string()),
        },
        RequestTokenError::Request(e) => e,
        RequestTokenError::Parse(e, _) => ProviderError::Protocol(e.to_string()),
        RequestTokenError::Other(e) => ProviderError::Protocol(e),
    }
}

/// An owned client per call: a closure that borrowed one would make the token future lose
/// `Send` for every lifetime (rustc's higher-ranked inference), and with it the worker's jobs.
fn sender(
    http: &reqwest::Client,
) -> impl Fn(
    HttpRequest,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<HttpResponse, ProviderError>> + Send>,
> + use<> {
    let http = http.clone();
    move |req| Box::pin(send(http.clone(), req))
}

/// `oauth2`'s HTTP hook over our reqwest client. A 429 or 5xx is an error here (retryable), not
/// a body for `oauth2` to misread as a token error.
async fn send(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, ProviderError> {
    let request = reqwest::Request::try_from(request)
        .map_err(|e| ProviderError::Protocol(format!("bad token request: {e}")))?;
    let response = http.execute(request).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(crate::http::classify(
            status,
            &headers,
            &String::from_utf8_lossy(&body),
        ));
    }
    let mut builder = http::Response::builder().status(status.as_u16());
    for (name, value) in &headers {
        builder = builder.header(name, value);
    }
    builder
        .body(body.to_vec())
        .map_err(|e| ProviderError::Protocol(e.to_string()))
}
