//! The HTTP client of live mode: health checks of containers and the requests of the load
//! replay.
//!
//! One pooled HTTP/1.1 client with `TCP_NODELAY`: a connection is reused when it is idle and a
//! new one opened when every pooled connection to that address is busy, so a request never
//! waits behind another one in the client (the load stays open-loop).

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::HeaderMap;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The client type shared by live mode.
pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// A response read whole.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A request that got no response.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("invalid address {0}")]
    Uri(String),
    #[error("{0}")]
    Http(#[from] hyper_util::client::legacy::Error),
    #[error("reading the response: {0}")]
    Body(#[from] hyper::Error),
}

/// A new pooled client (idle connections are kept 30 s).
pub fn new_client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// `GET uri`, with the whole body read.
pub async fn get(client: &HttpClient, uri: &str) -> Result<Reply, RequestError> {
    let uri: hyper::Uri = uri.parse().map_err(|_| RequestError::Uri(uri.into()))?;
    let resp = client.get(uri).await?;
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Reply {
        status,
        headers: parts.headers,
        body,
    })
}
