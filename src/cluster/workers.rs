//! The live workers: every heartbeat in the bucket (a worker silent for
//! the bucket's TTL has expired from it), for `roadmap-runner workers`.

use super::ClusterError;
use super::protocol::Heartbeat;
use async_nats::jetstream::kv;
use futures_util::StreamExt;

/// Every live worker's latest heartbeat, by name.
pub async fn live(bucket: &kv::Store) -> Result<Vec<Heartbeat>, ClusterError> {
    let mut keys = bucket
        .keys()
        .await
        .map_err(|e| ClusterError::nats("cannot list the workers", e))?;
    let mut names = Vec::new();
    while let Some(k) = keys.next().await {
        match k {
            Ok(k) => names.push(k),
            Err(e) => return Err(ClusterError::nats("cannot list the workers", e)),
        }
    }
    let mut out = Vec::new();
    for name in names {
        let value = bucket
            .get(name.as_str())
            .await
            .map_err(|e| ClusterError::nats("cannot read a heartbeat", e))?;
        if let Some(v) = value
            && let Ok(hb) = serde_json::from_slice::<Heartbeat>(&v)
        {
            out.push(hb);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The table `roadmap-runner workers` prints.
pub fn table(workers: &[Heartbeat], now: chrono::DateTime<chrono::Utc>) -> String {
    if workers.is_empty() {
        return "No live worker (a worker heartbeats every 2 s; start one with `roadmap-runner worker --nats URL`)\n".into();
    }
    let rows: Vec<[String; 5]> = workers
        .iter()
        .map(|w| {
            let ago = (now - w.at).num_milliseconds().max(0) as f64 / 1000.0;
            [
                w.name.clone(),
                w.host.clone(),
                w.slots.to_string(),
                if w.running.is_empty() {
                    "-".into()
                } else {
                    w.running.join(", ")
                },
                format!("{ago:.1}s ago"),
            ]
        })
        .collect();
    let header = ["NAME", "HOST", "SLOTS", "RUNNING", "LAST HEARTBEAT"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(header.to_vec());
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}
