//! `GET /events`: the runs' `--json` event objects as Server-Sent Events,
//! each with the id `<events file stem>:<line>`. A client that reconnects
//! with `Last-Event-ID` (or `?last_event_id=`) gets what it missed from the
//! buffer; a new client first gets the newest run's events so far.

use super::AppState;
use super::wire::ApiError;
use crate::remote::event_log::{Entry, EventId, EventLog};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};

pub(crate) async fn events(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let given = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| query.get("last_event_id").cloned())
        .filter(|s| !s.trim().is_empty());
    let after = match given.as_deref().map(|s| (s, EventId::parse(s))) {
        Some((_, Some(id))) => Some(id),
        Some((s, None)) => {
            let msg = format!("Last-Event-ID `{s}` is not an event id (`events_<stamp>:<line>`)");
            return ApiError::new(StatusCode::BAD_REQUEST, msg).into_response();
        }
        None => None,
    };
    Sse::new(stream_from(st.events.clone(), after))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The stream's state: events to send, where it is, the live feed.
struct Cursor {
    log: Arc<EventLog>,
    pending: VecDeque<Arc<Entry>>,
    last: Option<EventId>,
    rx: broadcast::Receiver<Arc<Entry>>,
}

fn stream_from(
    log: Arc<EventLog>,
    after: Option<EventId>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    // Subscribed before the replay is taken: nothing falls between the two.
    let rx = log.subscribe();
    let pending = log.replay(after.as_ref()).into();
    let cursor = Cursor {
        log,
        pending,
        last: after,
        rx,
    };
    stream::unfold(cursor, |mut c| async move {
        let entry = c.next().await?;
        let event = Event::default().id(entry.id.to_string()).data(&entry.data);
        Some((Ok(event), c))
    })
}

impl Cursor {
    /// The next event not sent yet, in id order.
    async fn next(&mut self) -> Option<Arc<Entry>> {
        loop {
            let entry = match self.pending.pop_front() {
                Some(e) => e,
                None => match self.rx.recv().await {
                    Ok(e) => e,
                    // Too slow for the live feed: catch up from the buffer.
                    Err(RecvError::Lagged(_)) => {
                        self.pending = self.log.replay(self.last.as_ref()).into();
                        continue;
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            if self.last.as_ref().is_some_and(|last| &entry.id <= last) {
                continue;
            }
            self.last = Some(entry.id.clone());
            return Some(entry);
        }
    }
}
