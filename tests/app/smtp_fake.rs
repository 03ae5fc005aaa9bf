//! A stand-in for the studio's mail server (a third party we cannot reach here) that speaks
//! real SMTP on a local port and hands back each message it accepts. It can be down: then it
//! greets with "421" (service not available, try later), as a real server does when it cannot
//! take mail, and closes.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::{UnboundedReceiver, error::TryRecvError};

pub struct FakeSmtp {
    pub port: u16,
    inbox: UnboundedReceiver<String>,
    up: Arc<AtomicBool>,
}

impl FakeSmtp {
    pub async fn start() -> FakeSmtp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, inbox) = tokio::sync::mpsc::unbounded_channel();
        let up = Arc::new(AtomicBool::new(true));
        let serving = up.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (tx, up) = (tx.clone(), serving.load(Ordering::SeqCst));
                tokio::spawn(async move {
                    let (r, mut w) = sock.into_split();
                    if !up {
                        let _ = w
                            .write_all(b"421 fake.smtp Service not available\r\n")
                            .await;
                        return;
                    }
                    let mut lines = BufReader::new(r).lines();
                    w.write_all(b"220 fake.smtp ESMTP\r\n").await.unwrap();
                    let (mut in_data, mut data) = (false, String::new());
                    while let Ok(Some(line)) = lines.next_line().await {
                        if in_data {
                            if line == "." {
                                in_data = false;
                                tx.send(std::mem::take(&mut data)).unwrap();
                                w.write_all(b"250 OK queued\r\n").await.unwrap();
                            } else {
                                data.push_str(&line);
                                data.push('\n');
                            }
                            continue;
                        }
                        let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 fake.smtp\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 End data with <CR><LF>.<CR><LF>\r\n"
                            }
                            "QUIT" => {
                                w.write_all(b"221 Bye\r\n").await.unwrap();
                                return;
                            }
                            _ => b"250 OK\r\n",
                        };
                        w.write_all(reply).await.unwrap();
                    }
                });
            }
        });
        FakeSmtp { port, inbox, up }
    }

    /// The PROJECTFLO_SMTP_URL that reaches it.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Take mail (true) or turn every connection away with "421" (false).
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    /// The next message it accepted, waiting up to ten seconds for one.
    pub async fn recv(&mut self) -> String {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.inbox.recv())
            .await
            .expect("an email within ten seconds")
            .unwrap()
    }

    /// Every message accepted so far, without waiting.
    pub fn received(&mut self) -> Vec<String> {
        let mut out = vec![];
        loop {
            match self.inbox.try_recv() {
                Ok(m) => out.push(m),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return out,
            }
        }
    }
}

/// The Message-ID header of a raw message.
pub fn message_id(raw: &str) -> String {
    raw.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .expect("a Message-ID header")
        .trim()
        .to_string()
}
