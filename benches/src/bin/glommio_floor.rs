//! The floor of the runtime under the HTTP bench: the smallest glommio HTTP/1.1 server (two
//! unpinned executors bound to one address with SO_REUSEPORT, each connection read into a
//! buffer and answered with a fixed 200 per request head, no parsing beyond the blank line).
//! `benches/http/run.sh` measures it at the same rate as impsd when `FLOOR=1`, so that the
//! latency impsd adds can be told from the latency glommio's reactor has by itself.
//!
//! Run: `cargo run --release -p imps-benches --bin glommio-floor -- [ADDR] [BODY_BYTES]`
//! (defaults 127.0.0.1:18082 and 682, the size of the bench's KeepAlive answer); runs until
//! killed.

use anyhow::Context;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpListener;
use glommio::{LocalExecutorBuilder, Placement};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18082".to_owned());
    let body_bytes: usize = match args.next() {
        Some(n) => n.parse().context("BODY_BYTES")?,
        None => 682,
    };
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wv.csp.xml\r\nContent-Length: {body_bytes}\r\n\r\n"
    )
    .into_bytes();
    response.resize(response.len() + body_bytes, b'x');
    let executors = (0..2)
        .map(|i| {
            let addr = addr.clone();
            let response = response.clone();
            LocalExecutorBuilder::new(Placement::Unbound)
                .name(&format!("floor{i}"))
                .spawn(move || serve(addr, response))
                .map_err(|e| anyhow::anyhow!("executor: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for executor in executors {
        executor
            .join()
            .map_err(|e| anyhow::anyhow!("executor: {e}"))??;
    }
    Ok(())
}

async fn serve(addr: String, response: Vec<u8>) -> anyhow::Result<()> {
    let listener =
        TcpListener::bind(addr.as_str()).map_err(|e| anyhow::anyhow!("bind {addr}: {e}"))?;
    let response = std::rc::Rc::new(response);
    loop {
        let Ok(mut stream) = listener.accept().await else {
            continue;
        };
        let response = std::rc::Rc::clone(&response);
        glommio::spawn_local(async move {
            let _ = stream.set_nodelay(true);
            let mut buf = vec![0u8; 16 * 1024];
            let mut tail = 0usize;
            loop {
                let n = match stream.read(&mut buf[tail..]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let filled = tail + n;
                let seen = buf.get(..filled).unwrap_or(&[]);
                let heads = seen.windows(4).filter(|w| *w == b"\r\n\r\n").count();
                // Keep what follows the last head (a request still arriving); bodies of
                // POSTs are counted as part of the next head's bytes, which is enough for
                // requests whose body holds no blank line.
                let keep = seen
                    .windows(4)
                    .rposition(|w| w == b"\r\n\r\n")
                    .map_or(filled, |p| filled - (p + 4));
                buf.copy_within(filled - keep..filled, 0);
                tail = if keep == buf.len() { 0 } else { keep };
                for _ in 0..heads {
                    if stream.write_all(&response).await.is_err() {
                        return;
                    }
                }
            }
        })
        .detach();
    }
}
