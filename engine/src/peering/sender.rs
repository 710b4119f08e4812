//! The sender task of one peer: POSTs the desk's transmits on a keep-alive connection, those
//! waiting together pipelined, and reports each outcome back to the desk.

use super::client::PeerClient;
use super::desk::DeskMsg;
use crate::federation::{Transmit, TransmitKind};

/// Transmits of one peer POSTed together (pipelined) at most.
const BATCH: usize = 64;

/// POSTs the transmits of one peer on a keep-alive connection, those waiting together
/// pipelined.
pub(crate) async fn peer_sender(
    peer: String,
    mut client: PeerClient,
    rx: flume::Receiver<Transmit>,
    desk: flume::Sender<DeskMsg>,
) {
    while let Ok(first) = rx.recv_async().await {
        let mut batch = vec![first];
        batch.extend(rx.try_iter().take(BATCH - 1));
        let items: Vec<(&[u8], &str)> = batch
            .iter()
            .map(|t| (t.body.as_slice(), t.transaction_id.as_str()))
            .collect();
        let results = client.post_batch(&items).await;
        for (t, result) in batch.into_iter().zip(results) {
            let ok = match result {
                Ok(200) => true,
                Ok(code) => {
                    tracing::debug!(%peer, code, "SSP POST refused");
                    false
                }
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "SSP POST failed");
                    false
                }
            };
            if t.kind != TransmitKind::Response
                && desk
                    .send(DeskMsg::Posted {
                        peer: peer.clone(),
                        transaction_id: t.transaction_id,
                        ok,
                    })
                    .is_err()
            {
                return;
            }
        }
    }
}
